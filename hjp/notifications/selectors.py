from collections.abc import Callable, Iterable

from django.db.models import OuterRef, QuerySet

from hjp.core.counting import Capped, CappedRows
from hjp.core.lookups import get_visible_or_404
from hjp.notifications.models import Message, MessageKind

# Where a user object keeps its inbox count once read (with the signed-in user: hjp.accounts.backends).
UNREAD_COUNT_ATTRIBUTE = "_hjp_unread_messages"
# Unread messages are counted up to this many (the badge shows "99+" beyond it).
UNREAD_CAP = 99

# Who a message is about, in words the reader knows the patient by. The core knows no app, so the app that
# owns referrals registers the function when it loads: called as (user=, referral_ids=), it returns
# {referral id: label} for the referrals the user may still see, in one query.
ReferralLabeller = Callable[..., dict[int, str]]
_referral_labellers: list[ReferralLabeller] = []


def register_referral_labeller(labeller: ReferralLabeller) -> None:
    if labeller not in _referral_labellers:
        _referral_labellers.append(labeller)


# What a message asks of its reader next (the outcome report: rate the service), registered by the app that owns
# the kind when it loads: called as (user=, message=), it returns {"text", "url", "label"} or None.
FollowUp = Callable[..., dict | None]
_follow_ups: dict[str, FollowUp] = {}


def register_follow_up(kind: str, follow_up: FollowUp) -> None:
    _follow_ups[kind] = follow_up


def follow_up_of(*, user, message: Message) -> dict | None:
    """What the message's page offers under it; nothing for a withheld message or a kind with no follow-up (and
    then no query)."""
    follow_up = _follow_ups.get(message.kind)
    if follow_up is None or getattr(message, "withheld", False):
        return None
    return follow_up(user=user, message=message)


def inbox(*, user) -> QuerySet[Message]:
    """The user's delivered messages, newest first; a daily summary is an email about the inbox, not in it."""
    return (
        Message.objects.filter(recipient=user, status=Message.Status.DELIVERED)
        .exclude(kind=MessageKind.DAILY_SUMMARY)
        .order_by("-delivered_at", "-pk")
    )


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


def _unread(*, user) -> QuerySet[Message]:
    return inbox(user=user).filter(read_at__isnull=True)


def unread_count(*, user) -> Capped:
    """The user's unread messages, counted up to UNREAD_CAP (shown "99+" beyond it: the inbox's badge asks only
    whether there is something to read), read once per user object: with the signed-in user itself where it was
    read with `unread_count_of_each_user` (hjp.accounts.backends), else here. Marking messages read forgets it."""
    rows = getattr(user, UNREAD_COUNT_ATTRIBUTE, None)
    if rows is None:
        rows = _unread(user=user).order_by().values("pk")[: UNREAD_CAP + 1].count()
        setattr(user, UNREAD_COUNT_ATTRIBUTE, rows)
    return Capped.of(rows, UNREAD_CAP)


def unread_count_of_each_user() -> CappedRows:
    """An annotation for a query of users: each user's unread messages, at most UNREAD_CAP + 1 of them read (the
    partial index message_unread_inbox_idx holds exactly these rows), as `unread_count` reads them."""
    return CappedRows(_unread(user=OuterRef("pk")), UNREAD_CAP)


def forget_unread_count(user) -> None:
    """After the user's messages were marked read: the count kept on the user object is out of date."""
    if hasattr(user, UNREAD_COUNT_ATTRIBUTE):
        delattr(user, UNREAD_COUNT_ATTRIBUTE)


def get_message_for_user(*, user, pk) -> Message:
    """The user's own delivered message, or 404 for anyone else's."""
    return get_visible_or_404(inbox(user=user), pk, "No such message.")
