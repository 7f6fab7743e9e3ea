from collections.abc import Callable, Iterable

from django.db.models import QuerySet

from hjp.core.lookups import get_visible_or_404
from hjp.notifications.models import Message

# Who a message is about, in words the reader knows the patient by. The core knows no app, so the app that
# owns referrals registers the function when it loads: called as (user=, referral_ids=), it returns
# {referral id: label} for the referrals the user may still see, in one query.
ReferralLabeller = Callable[..., dict[int, str]]
_referral_labellers: list[ReferralLabeller] = []


def register_referral_labeller(labeller: ReferralLabeller) -> None:
    if labeller not in _referral_labellers:
        _referral_labellers.append(labeller)


def inbox(*, user) -> QuerySet[Message]:
    return Message.objects.filter(recipient=user, status=Message.Status.DELIVERED).order_by("-delivered_at", "-pk")


def with_patient_labels(*, user, messages: Iterable[Message]) -> list[Message]:
    """The messages, each with `patient_label`: who it is about, where the user may still see that referral
    (else empty), and `withheld`: it is about a referral the user may no longer see (their role or
    organisation changed since it was sent), so the page shows its subject but not what it says about the
    patient. Never for an email: this is only for pages inside hjp."""
    messages = list(messages)
    referral_ids = {m.referral_id for m in messages if m.referral_id}
    labels: dict[int, str] = {}
    if referral_ids:
        for labeller in _referral_labellers:
            labels.update(labeller(user=user, referral_ids=referral_ids))
    for message in messages:
        message.patient_label = labels.get(message.referral_id, "")
        message.withheld = bool(message.referral_id) and message.referral_id not in labels
    return messages


def unread_count(*, user) -> int:
    return inbox(user=user).filter(read_at__isnull=True).count()


def get_message_for_user(*, user, pk) -> Message:
    """The user's own delivered message, or 404 for anyone else's."""
    return get_visible_or_404(inbox(user=user), pk, "No such message.")
