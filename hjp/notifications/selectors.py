from django.db.models import QuerySet
from django.http import Http404

from hjp.notifications.models import Message


def inbox(*, user) -> QuerySet[Message]:
    return Message.objects.filter(recipient=user, status=Message.Status.DELIVERED).order_by("-delivered_at", "-pk")


def unread_count(*, user) -> int:
    return inbox(user=user).filter(read_at__isnull=True).count()


def get_message_for_user(*, user, pk) -> Message:
    """The user's own delivered message, or 404 for anyone else's."""
    try:
        return inbox(user=user).get(pk=pk)
    except (Message.DoesNotExist, ValueError, TypeError):
        raise Http404("No such message.") from None
