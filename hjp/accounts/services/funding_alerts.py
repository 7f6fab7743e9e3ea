"""Alerts before money runs out: the managers of a partnership and the supervisors of its advice organisation are
told in their inbox (and by email, as each chose: hjp.notifications) 90 and 30 days before a funding period or the
partnership itself ends, so there is time to find the next funder. Run daily by the periodic job
`funding-alerts`; each funding (or partnership) and threshold is told to each person once, by the outbox's unique
key, however often the job runs or however many beats run it."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from hjp.accounts.models import Funding, Membership, Partnership, Role, User
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.notifications.models import Message, MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue

# Days before the end at which people are told, nearest last. A funding found inside a threshold (recorded late,
# or the job down for days) is told at the nearest threshold it is inside, once.
ALERT_DAYS = (90, 30)


@dataclass(frozen=True)
class Ending:
    """Something that ends: a funding period or the partnership, for one partnership, on `ends_on`."""

    partnership: Partnership
    what: str  # how the message names it
    key: str  # funding:<pk> or partnership:<pk>
    ends_on: date


def threshold_for(*, ends_on: date, today: date) -> int | None:
    """The nearest threshold of ALERT_DAYS that `ends_on` is within, counted from `today`; None when it is further
    off than every threshold or already over."""
    days_left = (ends_on - today).days
    if days_left < 0:
        return None
    inside = [days for days in ALERT_DAYS if days_left <= days]
    return min(inside) if inside else None


def _endings(today: date) -> list[Ending]:
    horizon = today + timedelta(days=max(ALERT_DAYS))
    endings = [
        Ending(
            partnership=funding.partnership,
            what=f"the funding from {funding.funder}",
            key=f"funding:{funding.pk}",
            ends_on=funding.period_end,
        )
        for funding in Funding.objects.filter(period_end__gte=today, period_end__lte=horizon).select_related(
            "partnership"
        )
    ]
    endings += [
        Ending(
            partnership=partnership,
            what="the partnership",
            key=f"partnership:{partnership.pk}",
            ends_on=partnership.end_date,
        )
        for partnership in Partnership.objects.filter(end_date__gte=today, end_date__lte=horizon)
    ]
    return endings


def alert_recipients(partnership: Partnership) -> list[User]:
    """The partnership's managers and its advice organisation's supervisors: people who can sign in."""
    memberships = Membership.objects.filter(
        Q(role=Role.MANAGER, partnership=partnership)
        | Q(role=Role.SUPERVISOR, organisation_id=partnership.advice_organisation_id)
    )
    return list(
        User.objects.filter(pk__in=memberships.values("user_id"), is_active=True, is_system_account=False).order_by(
            "pk"
        )
    )


def funding_alerts_send(*, today: date) -> int:
    """Queue the alerts due `today` (see the module docstring); returns how many were new. Each ending is queued
    in its own transaction, with its audit entry."""
    queued = 0
    for ending in _endings(today):
        threshold = threshold_for(ends_on=ending.ends_on, today=today)
        if threshold is not None:
            queued += _alert(ending=ending, threshold=threshold, today=today)
    return queued


@transaction.atomic
def _alert(*, ending: Ending, threshold: int, today: date) -> int:
    managers = set(
        Membership.objects.filter(role=Role.MANAGER, partnership=ending.partnership).values_list("user_id", flat=True)
    )
    context = {
        "partnership": ending.partnership,
        "what": ending.what,
        "ends_on": ending.ends_on,
        "days_left": (ending.ends_on - today).days,
        "threshold": threshold,
    }
    dashboard = f"{reverse('outcomes:dashboard')}?partnership={ending.partnership.pk}"
    recipients = alert_recipients(ending.partnership)
    # The end date is part of the key: a funding extended to a new end is told about again.
    keys = {
        user.pk: f"funding_ending:{ending.key}:{ending.ends_on:%Y-%m-%d}:{threshold}:user:{user.pk}"
        for user in recipients
    }
    already = set(Message.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    new = [user for user in recipients if keys[user.pk] not in already]
    for user in new:
        # Queued once per key even when another run queues it at the same moment (message_queue's get_or_create
        # on the unique key).
        message_queue(
            recipient=user,
            kind=MessageKind.FUNDING_ENDING,
            key=keys[user.pk],
            subject=render_subject("funding_ending", **context),
            body=render_message("funding_ending", **context),
            url=dashboard if user.pk in managers else "",
        )
    if new:
        audit_record(
            actor=None,
            action=AuditEvent.Action.CREATE,
            obj=ending.partnership,
            summary=f"alert: {ending.what} ends on {ending.ends_on:%Y-%m-%d} ({threshold} days), {len(new)} told",
        )
    return len(new)
