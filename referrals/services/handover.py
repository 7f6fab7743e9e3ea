"""A referral handed over to a partner provider, and what comes back: the partner's answer and its outcome.

casework makes a handover when an advisor refers on or redirects with the patient's consent to share with the
provider (`handover_make`); casework's pages call the rest. Inside hjp the partner's advice workers decide and
close (`handover_decide`, `handover_close`); outside it the partner opens a single-use link once
(`handover_link_issue`, `handover_link_open`) and the advisor who handed it over records what the partner
reports (`handover_close`). Every answer and outcome is told to whoever handed it over and to the referrer
(the outcome only where the patient agreed to outcomes being reported back: consent scope 3)."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from hjp.accounts.models import Membership, Organisation, Role
from hjp.accounts.roles import roles_for
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.submissions import once_per_submission
from hjp.notifications.models import MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue
from referrals import permissions
from referrals.models import Consent, ConsentChange, Handover, HandoverOutcome, HandoverState, Referral

H = HandoverState
Action = AuditEvent.Action
LINK_SALT = "hjp.referrals.handover-link"

# Who moves a handover, and to where: "partner" the advice workers of the organisation it was handed to (inside
# hjp); "sender" those of the organisation that handed it over (for a partner outside hjp, on its word);
# "consent" a withdrawal of consent.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (H.SENT, H.ACCEPTED): frozenset({"partner", "sender_outside"}),
    (H.SENT, H.DECLINED): frozenset({"partner", "sender_outside"}),
    (H.SENT, H.CLOSED): frozenset({"sender_outside"}),
    (H.ACCEPTED, H.CLOSED): frozenset({"partner", "sender_outside"}),
    (H.SENT, H.STOPPED): frozenset({"consent"}),
    (H.ACCEPTED, H.STOPPED): frozenset({"consent"}),
}


def _capacities(user, handover: Handover) -> frozenset[str]:
    advice_org_ids = roles_for(user).advice_org_ids
    capacities = set()
    if handover.is_inside and handover.to_organisation_id in advice_org_ids:
        capacities.add("partner")
    if not handover.is_inside and handover.from_organisation_id in advice_org_ids:
        capacities.add("sender_outside")
    return frozenset(capacities)


def handover_targets(*, handover: Handover, user) -> list[str]:
    """The states this user may move this handover to now (for showing the right buttons)."""
    if handover.referral.consent.is_withdrawn:
        return []
    mine = _capacities(user, handover)
    return [to for (frm, to), who in TRANSITIONS.items() if frm == handover.state and who & mine]


@transaction.atomic
def handover_make(
    *,
    referral: Referral,
    actor,
    provider_name: str,
    to_organisation: Organisation | None,
    consent_given_by: str,
    consent_method: str,
    consent_said_at: datetime,
) -> Handover:
    """Hand the referral over to a partner, recording the patient's consent to share with it. The caller
    (casework) has checked the actor works for the referral's advice organisation and chose the provider
    from its directory."""
    locked = Referral.objects.select_for_update(of=("self",)).select_related("consent").get(pk=referral.pk)
    if locked.consent.is_withdrawn:
        raise DomainError("Consent for this referral has been withdrawn: it cannot be handed over.")
    if consent_said_at > timezone.now() + timedelta(minutes=5):
        raise DomainError("When the patient agreed cannot be in the future.")
    if consent_given_by not in Consent.GivenBy.values or consent_method not in ConsentChange.Method.values:
        raise DomainError("Say who agreed to share the referral and how.")
    if to_organisation is not None and (
        to_organisation.kind != Organisation.Kind.ADVICE or to_organisation.pk == locked.advice_organisation_id
    ):
        raise DomainError("A referral can only be handed over to another advice service.")
    handover = Handover(
        referral=locked,
        from_organisation_id=locked.advice_organisation_id,
        to_organisation=to_organisation,
        provider_name=provider_name,
        made_by=actor,
        consent_given_by=consent_given_by,
        consent_method=consent_method,
        consent_said_at=consent_said_at,
    )
    handover.full_clean(exclude=["referral", "from_organisation", "to_organisation", "made_by"])
    try:
        with transaction.atomic():
            handover.save()
    except IntegrityError as error:
        raise DomainError(f"This referral is already with {provider_name}, waiting or being worked on.") from error
    audit_record(actor=actor, action=Action.CREATE, obj=handover, summary="consent to share with the provider")
    return handover


def _lock(handover: Handover) -> Handover:
    return (
        Handover.objects.select_for_update(of=("self",))
        .select_related(
            "referral__consent", "referral__patient", "referral__referrer", "from_organisation", "to_organisation"
        )
        .get(pk=handover.pk)
    )


def _move(handover: Handover, *, to_state: str, actor) -> None:
    if handover.referral.consent.is_withdrawn:
        raise DomainError("Consent for this referral has been withdrawn: nothing more is recorded on it.")
    who = TRANSITIONS.get((handover.state, to_state))
    if who is None or not who & _capacities(actor, handover):
        raise DomainError(f"This handover is {handover.get_state_display().lower()}: that cannot be done now.")
    handover.state = to_state


@once_per_submission
@transaction.atomic
def handover_decide(*, handover: Handover, actor, accept: bool, note: str = "") -> Handover:
    """The partner accepts or declines a handover (for a partner outside hjp, the advisor records its answer)."""
    locked = _lock(handover)
    _move(locked, to_state=H.ACCEPTED if accept else H.DECLINED, actor=actor)
    if not accept and not note.strip():
        raise DomainError("Say why the referral cannot be taken on.")
    locked.decided_by, locked.decided_at, locked.decision_note = actor, timezone.now(), note.strip()
    locked.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    audit_record(actor=actor, action=Action.TRANSITION, obj=locked, summary=f"handover {locked.state}")
    _tell(locked, note=locked.decision_note)
    return locked


@once_per_submission
@transaction.atomic
def handover_close(*, handover: Handover, actor, outcome: str, note: str = "") -> Handover:
    """The partner closes its work with an outcome (for a partner outside hjp, the advisor records the outcome
    the partner reports)."""
    if outcome not in HandoverOutcome.values:
        raise DomainError("Choose what became of the referral from the list.")
    locked = _lock(handover)
    was_sent = locked.state == H.SENT
    _move(locked, to_state=H.CLOSED, actor=actor)
    now = timezone.now()
    if was_sent:  # a partner outside hjp reported its outcome without an answer first: it took the referral on
        locked.decided_by, locked.decided_at = actor, now
    locked.outcome, locked.outcome_note, locked.outcome_by, locked.outcome_at = outcome, note.strip(), actor, now
    locked.save(
        update_fields=["state", "decided_by", "decided_at", "outcome", "outcome_note", "outcome_by", "outcome_at"]
    )
    audit_record(actor=actor, action=Action.TRANSITION, obj=locked, summary=f"handover closed: {outcome}")
    _tell(locked, note=locked.outcome_note)
    return locked


def handovers_stop_for_consent(*, referral: Referral) -> int:
    """A withdrawal of consent stops every open handover of the referral, and any link to it with them.
    Called in the withdrawal's transaction (referrals.services.consent)."""
    stopped = 0
    # One save each (a referral has few handovers): what listens to a handover's state hears of it.
    for handover in Handover.objects.select_for_update().filter(referral=referral).order_by("pk"):
        if handover.is_open:
            handover.state = H.STOPPED
            stopped += 1
        handover.link_nonce = ""
        handover.save(update_fields=["state", "link_nonce"])
    return stopped


def _current_senders(handover: Handover) -> list:
    """Who handed it over, while still an advisor or supervisor of that organisation."""
    still_there = Membership.objects.filter(
        user_id=handover.made_by_id,
        organisation_id=handover.from_organisation_id,
        role__in=[Role.ADVISOR, Role.SUPERVISOR],
        user__is_active=True,
    ).exists()
    return [handover.made_by] if still_there else []


def _tell(handover: Handover, *, note: str) -> None:
    """The partner's answer, or its outcome, to whoever handed the referral over and to the referrer."""
    referral = handover.referral
    recipients = _current_senders(handover)
    tell_referrer = handover.state != H.CLOSED or referral.consent.allows_outcome_feedback
    if tell_referrer and permissions.author_is_current(referral) and referral.referrer not in recipients:
        recipients.append(referral.referrer)
    context = {"handover": handover, "referral": referral, "note": note, "State": H}
    for recipient in recipients:
        message_queue(
            recipient=recipient,
            kind=MessageKind.STATUS_NOTICE,
            key=f"handover:{handover.pk}:{handover.state}:user:{recipient.pk}",
            subject=render_subject("handover_notice", **context),
            body=render_message("handover_notice", **context),
            url=reverse("referrals:detail", args=[referral.pk]),
            referral_id=referral.pk,
        )


# --- the link for a partner outside hjp ----------------------------------------------------------------------


@transaction.atomic
def handover_link_issue(*, handover: Handover, actor) -> str:
    """A new single-use link for a partner outside hjp, valid for HANDOVER_LINK_DAYS; any earlier link stops
    working. Returns the token (shown once, to be sent to the partner by the advisor)."""
    locked = _lock(handover)
    if locked.is_inside or "sender_outside" not in _capacities(actor, locked):
        raise DomainError("Only the service that handed it over to a provider outside hjp can send a link.")
    if locked.state != H.SENT or locked.referral.consent.is_withdrawn:
        raise DomainError("A link can only be sent while the handover waits for the provider.")
    locked.link_nonce = secrets.token_hex(16)
    locked.link_expires_at = timezone.now() + timedelta(days=settings.HANDOVER_LINK_DAYS)
    locked.link_used_at = None
    locked.save(update_fields=["link_nonce", "link_expires_at", "link_used_at"])
    audit_record(actor=actor, action=Action.UPDATE, obj=locked, summary="download link issued")
    return signing.dumps({"h": locked.pk, "n": locked.link_nonce}, salt=LINK_SALT, compress=True)


class LinkRefused(DomainError):
    """The link is not (or no longer) valid; the message says why, without saying anything about the patient."""


def handover_for_token(token: str) -> Handover | None:
    """The handover a well-formed, genuinely signed token names (None otherwise): nothing is checked or used."""
    try:
        data = signing.loads(token, salt=LINK_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("h"), int) or not data.get("n"):
        return None
    handover = Handover.objects.filter(pk=data["h"], link_nonce=str(data["n"])).first()
    return handover


def link_refusal(handover: Handover, *, now=None) -> str:
    """Why this handover's link cannot be used now ("" when it can)."""
    now = now or timezone.now()
    if handover.link_used_at is not None:
        return "This link has already been used. Ask the advice service for a new one."
    if handover.link_expires_at is None or handover.link_expires_at <= now:
        return "This link has expired. Ask the advice service for a new one."
    if handover.state != H.SENT or handover.referral.consent.is_withdrawn or handover.referral.patient.redacted_at:
        return "This referral can no longer be shared."
    return ""


@transaction.atomic
def handover_link_open(*, token: str) -> Handover:
    """Use a link once: the partner downloads the referral summary. Refused after expiry, after its one use,
    and once consent is withdrawn; the download is audited (no user: the partner is outside hjp)."""
    found = handover_for_token(token)
    if found is None:
        raise LinkRefused("This link is not valid.")
    locked = _lock(found)
    if locked.link_nonce != found.link_nonce:
        raise LinkRefused("This link has been replaced by a newer one.")
    refusal = link_refusal(locked)
    if refusal:
        raise LinkRefused(refusal)
    locked.link_used_at = timezone.now()
    locked.save(update_fields=["link_used_at"])
    audit_record(actor=None, action=Action.VIEW, obj=locked, summary="summary downloaded by the provider")
    return locked
