"""Writes for referrals. Every change of state goes through `referral_transition` (and a withdrawal of consent's
cancellation through `_referral_cancel_for_consent`). Once a referral has a case, casework's case lifecycle
(casework.services.lifecycle) makes its moves and decides its business status (`case_status`); this app only
records them."""

from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hjp.accounts.models import Organisation, Partnership
from hjp.accounts.roles import roles_for
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.nhs_number import normalise_nhs_number
from hjp.core.redaction import REDACTED
from hjp.core.references import new_reference
from hjp.core.submissions import once_per_submission
from hjp.core.versioning import StaleVersionError, check_version
from hjp.notifications.models import MessageKind
from hjp.notifications.rendering import render_message, render_subject
from hjp.notifications.services import message_queue, messages_stop_for_referral
from referrals import permissions
from referrals.models import CaseStatus, Consent, DeclineReason, Patient, Referral, ReferralStatus, ReferralStatusChange
from referrals.selectors import open_duplicates
from referrals.signals import consent_withdrawn
from referrals.validators import normalise_postcode

S = ReferralStatus

# Who may make each move. "referrer": the referrer's side; "advisor": the advice organisation's side;
# "supervisor": a supervisor of that organisation; "consent": a recorded withdrawal of consent.
# The moves of an accepted referral belong to its case: casework makes them with the case's own
# (casework.services.lifecycle.case_transition), and a case reopened before anyone reached the patient takes
# its referral back to accepted.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.DRAFT, S.SUBMITTED): frozenset({"referrer"}),
    (S.DRAFT, S.CANCELLED): frozenset({"referrer"}),
    (S.SUBMITTED, S.ACCEPTED): frozenset({"advisor"}),
    (S.SUBMITTED, S.DECLINED): frozenset({"advisor"}),
    (S.SUBMITTED, S.REDIRECTED): frozenset({"advisor"}),
    (S.SUBMITTED, S.CANCELLED): frozenset({"referrer", "consent"}),
    (S.SUBMITTED, S.ENTERED_IN_ERROR): frozenset({"referrer"}),
    (S.ACCEPTED, S.IN_PROGRESS): frozenset({"advisor"}),
    (S.ACCEPTED, S.CLOSED): frozenset({"advisor"}),
    (S.ACCEPTED, S.CANCELLED): frozenset({"consent"}),
    (S.IN_PROGRESS, S.CLOSED): frozenset({"advisor"}),
    (S.IN_PROGRESS, S.CANCELLED): frozenset({"consent"}),
    (S.CLOSED, S.IN_PROGRESS): frozenset({"supervisor"}),
    (S.CLOSED, S.ACCEPTED): frozenset({"supervisor"}),
}
# FHIR requires a statusReason for these.
REASON_REQUIRED = frozenset({S.DECLINED, S.REDIRECTED, S.CANCELLED, S.ENTERED_IN_ERROR})
CONSENT_WITHDRAWN_REASON = "Consent withdrawn"


def allowed_targets(*, referral: Referral, user) -> list[str]:
    """The states this user may move this referral to now (for showing the right buttons): none once the patient
    has withdrawn consent, as `referral_transition` then refuses every move."""
    consent = getattr(referral, "consent", None)
    if consent is not None and consent.is_withdrawn:
        return []
    capacities = _capacities(user, referral)
    return [to for (frm, to), who in TRANSITIONS.items() if frm == referral.status and who & capacities]


def _capacities(user, referral: Referral) -> frozenset[str]:
    capacities = set()
    if permissions.is_referrer_side(user, referral):
        capacities.add("referrer")
    if permissions.is_advice_side(user, referral):
        capacities.add("advisor")
        if permissions.is_supervisor_for(user, referral):
            capacities.add("supervisor")
    return frozenset(capacities)


def _label(status: str) -> str:
    return ReferralStatus(status).label.lower()


@transaction.atomic
def referral_transition(
    *, referral: Referral, to_status: str, actor, reason: str = "", decline_reason: str = ""
) -> Referral:
    """Move a referral to `to_status` if DESIGN.md's table allows it for this actor; record who, when, why
    (`reason`, in words, and for a decline `decline_reason`, a DeclineReason code kept apart for reports).
    A referral whose patient withdrew consent makes no more moves.

    The moves of a referral that has a case (accepted, in progress, closed) are casework's to make, through
    `casework.services.lifecycle.case_transition`, which also sets the case's business status: this function
    touches the referral's own state only.

    Raises DomainError with a message for the user when the move is not allowed."""
    return _transition(
        referral=referral, to_status=to_status, actor=actor, reason=reason, decline_reason=decline_reason
    )


def _referral_cancel_for_consent(*, referral: Referral, actor) -> Referral:
    """Cancel a referral because its patient withdrew consent: the one move made in the "consent" capacity
    (whoever recorded the withdrawal makes it), and the one a referral whose consent is withdrawn still makes.
    Only `consent_withdraw` calls this."""
    return _transition(
        referral=referral, to_status=S.CANCELLED, actor=actor, reason=CONSENT_WITHDRAWN_REASON, capacity="consent"
    )


def _transition(
    *,
    referral: Referral,
    to_status: str,
    actor,
    reason: str = "",
    decline_reason: str = "",
    capacity: str | None = None,
) -> Referral:
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    from_status = locked.status
    reason = (reason or "").strip()
    to_status = ReferralStatus(to_status)
    allowed_for = TRANSITIONS.get((from_status, to_status))
    if from_status == to_status:
        raise DomainError(f"This referral is already {_label(to_status)}.")
    if allowed_for is None:
        raise DomainError(f"A referral that is {_label(from_status)} cannot become {_label(to_status)}.")
    if capacity is None and Consent.objects.filter(referral=locked, withdrawn_at__isnull=False).exists():
        raise DomainError("The patient withdrew their consent: this referral cannot change any more.")
    capacities = {capacity} if capacity else _capacities(actor, locked)
    if not allowed_for & capacities:
        raise DomainError(f"You may not make a {_label(from_status)} referral {_label(to_status)}.")
    if to_status in REASON_REQUIRED and not reason and not decline_reason:
        raise DomainError(f"Give a reason for making this referral {_label(to_status)}.")
    if decline_reason and (to_status != S.DECLINED or decline_reason not in DeclineReason.values):
        raise DomainError("A coded reason is given only for declining, from the list of reasons.")

    now = timezone.now()
    locked.status = to_status
    if to_status == S.SUBMITTED:
        locked.submitted_at = now
    locked.save(update_fields=["status", "submitted_at", "updated_at"])
    change = ReferralStatusChange.objects.create(
        referral=locked,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        reason=reason,
        decline_reason=decline_reason,
        at=now,
    )
    # Triage's answer; a case reopened to awaiting its first contact is not accepted a second time.
    if to_status in STATUS_NOTICES and from_status == S.SUBMITTED:
        _queue_status_notice(locked, change)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=locked,
        summary=f"{from_status} -> {to_status}",
    )
    referral.refresh_from_db()
    return locked


# The referrer is told when the advice service accepts, declines or redirects (templates/messages/status_notice*).
STATUS_NOTICES = frozenset({S.ACCEPTED, S.DECLINED, S.REDIRECTED})


def _queue_status_notice(referral: Referral, change: ReferralStatusChange) -> None:
    """Tell the referrer that the advice service accepted, declined or redirected their referral."""
    message_queue(
        recipient=referral.referrer,
        kind=MessageKind.STATUS_NOTICE,
        key=f"status_notice:change:{change.pk}",
        subject=render_subject("status_notice", referral=referral, change=change, ReferralStatus=S),
        body=render_message("status_notice", referral=referral, change=change, ReferralStatus=S),
        url=reverse("referrals:detail", args=[referral.pk]),
        referral_id=referral.pk,
    )


def _clean_patient_data(data: dict) -> dict:
    data = dict(data)
    if "nhs_number" in data:
        data["nhs_number"] = normalise_nhs_number(data["nhs_number"])
    if "postcode" in data:
        data["postcode"] = normalise_postcode(data["postcode"])
    return data


@dataclass(frozen=True)
class ReferrerContext:
    organisation_id: int
    team_id: int | None
    profession: str


def referrer_context(user) -> ReferrerContext:
    memberships = roles_for(user).referrer_memberships
    if not memberships:
        raise DomainError("Only referrers in a health organisation can make referrals.")
    m = memberships[0]
    return ReferrerContext(organisation_id=m.organisation_id, team_id=m.team_id, profession=m.profession)


def _check_partnership(actor, partnership: Partnership) -> None:
    org_ids = roles_for(actor).referrer_org_ids
    if not partnership.health_organisations.filter(pk__in=org_ids).exists():
        raise DomainError("Your organisation is not a member of that partnership.")
    if not partnership.is_active_on(timezone.localdate()):
        raise DomainError("That partnership is not running today: choose another advice service.")


def _apply_referral_fields(referral: Referral, referral_data: dict) -> list:
    categories = referral_data.pop("categories", None)
    for name, value in referral_data.items():
        setattr(referral, name, value)
    return categories


class StaleReferralError(StaleVersionError):
    """Someone saved the draft (perhaps the same referrer, in another window) after this form was loaded."""

    message_text = (
        "This draft was saved from another window or by someone else after you opened it. Nothing of yours "
        "was saved: your answers are still below. Open the draft in a new tab to see what is saved now, or save "
        "again to replace it with your answers."
    )


class DuplicateReferralError(DomainError):
    """The patient already has an open referral to this advice service and no reason to refer again is given.
    `duplicates` are those open referrals."""

    def __init__(self, duplicates: list[Referral]):
        super().__init__(
            "This patient already has an open referral to this advice service. "
            "Give a reason to refer again, or go back to the open referral."
        )
        self.duplicates = duplicates


def _check_not_duplicate(
    *, advice_organisation_id: int, patient_data: dict, referral_data: dict, referral: Referral | None
) -> None:
    """Refuse a second open referral of the same patient to the same advice service, unless a reason is given.
    Submissions to one advice service are serialised on its row, so that two sent at the same moment cannot
    both miss each other."""
    # NO KEY UPDATE: submissions queue behind each other; rows that merely refer to the organisation do not.
    Organisation.objects.select_for_update(no_key=True).get(pk=advice_organisation_id)
    duplicates = open_duplicates(
        advice_organisation_id=advice_organisation_id,
        nhs_number=patient_data.get("nhs_number", ""),
        given_name=patient_data.get("given_name", ""),
        family_name=patient_data.get("family_name", ""),
        date_of_birth=patient_data.get("date_of_birth"),
        exclude_pk=referral.pk if referral else None,
    )
    if duplicates and not (referral_data.get("duplicate_reason") or "").strip():
        raise DuplicateReferralError(duplicates)


@once_per_submission
@transaction.atomic
def referral_save(
    *,
    actor,
    patient_data: dict,
    consent_data: dict,
    referral_data: dict,
    referral: Referral | None = None,
    version: int | None = None,
    submit: bool = False,
) -> Referral:
    """Create a referral or update a draft, and submit it when `submit` is true.

    Editing a draft with `version` (the one its form was loaded with) refuses a stale one: StaleReferralError.
    Submitting needs consent scope 1 (sharing with the advice service), and refuses a second open referral of
    the same patient to the same advice service without a reason: DuplicateReferralError. With a
    `submission_token` (see hjp.core.submissions) a form sent twice saves once."""
    referral_data = dict(referral_data)
    partnership = referral_data["partnership"]
    _check_partnership(actor, partnership)
    ctx = referrer_context(actor)
    if submit:
        _check_not_duplicate(
            advice_organisation_id=partnership.advice_organisation_id,
            patient_data=patient_data,
            referral_data=referral_data,
            referral=referral,
        )
    if referral is None:
        patient = Patient(**_clean_patient_data(patient_data))
        patient.full_clean()
        patient.save()
        referral = Referral(
            reference=new_reference(Referral, "R"),
            patient=patient,
            referrer=actor,
            referring_organisation_id=ctx.organisation_id,
            referring_team_id=ctx.team_id,
            referrer_profession=ctx.profession,
        )
        action = AuditEvent.Action.CREATE
    else:
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if not permissions.can_edit_draft(actor, referral):
            raise DomainError("Only the referrer's own drafts can be edited.")
        check_version(referral, version, error=StaleReferralError)
        referral.version += 1
        for name, value in _clean_patient_data(patient_data).items():
            setattr(referral.patient, name, value)
        referral.patient.full_clean()
        referral.patient.save()
        action = AuditEvent.Action.UPDATE
    referral_data["advice_organisation"] = partnership.advice_organisation
    categories = _apply_referral_fields(referral, referral_data)
    referral.full_clean(exclude=["patient"])
    referral.save()
    if categories is not None:
        referral.categories.set(categories)
    consent = getattr(referral, "consent", None) if referral.pk else None
    consent = consent or Consent(referral=referral, recorded_by=actor)
    for name, value in consent_data.items():
        setattr(consent, name, value)
    consent.recorded_by = actor
    consent.full_clean()
    consent.save()
    audit_record(actor=actor, action=action, obj=referral, summary="referral saved as draft")
    if submit:
        if not consent.share_with_advice_service or not consent.given_at or not consent.method:
            raise DomainError(
                "Record the patient's consent to share the referral with the advice service before submitting."
            )
        referral_transition(referral=referral, to_status=S.SUBMITTED, actor=actor)
        referral.refresh_from_db()
    return referral


def _redact_patient(patient: Patient) -> None:
    """Blank what identifies the patient; keep what aggregate statistics count (sex, ethnicity, decile)."""
    for name in ("address", "postcode", "phone", "email", "contact_times", "access_needs", "nhs_number", "language"):
        setattr(patient, name, "")
    patient.given_name = "Redacted"
    patient.family_name = "patient"
    patient.date_of_birth = None
    patient.preferred_contact_method = ""
    patient.may_leave_message = False
    patient.redacted_at = timezone.now()
    patient.save()


@transaction.atomic
def consent_withdraw(*, referral: Referral, actor, note: str = "") -> Referral:
    """Record a withdrawal of consent: work stops, the referral is cancelled, the patient is redacted.

    Counts for aggregate statistics remain (the referral, its dates, states and categories)."""
    referral = Referral.objects.select_for_update(of=("self",)).select_related("patient", "consent").get(pk=referral.pk)
    if not permissions.can_withdraw_consent(actor, referral):
        raise DomainError("Consent for this referral cannot be withdrawn: it is already withdrawn or never sent.")
    now = timezone.now()
    consent = referral.consent
    consent.withdrawn_at = now
    consent.withdrawn_by = actor
    consent.withdrawal_note = note.strip()
    # A named representative (often a relative) identifies the patient as surely as their own name does.
    consent.representative_name = ""
    consent.representative_authority = ""
    consent.save()
    if referral.status in (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS):
        _referral_cancel_for_consent(referral=referral, actor=actor)
    referral.description = REDACTED
    referral.known_deadline_note = ""
    referral.duplicate_reason = ""
    referral.save(update_fields=["description", "known_deadline_note", "duplicate_reason", "updated_at"])
    # The timeline keeps who moved the referral and when; the reasons people typed may describe the patient.
    referral.status_changes.exclude(reason__in=["", CONSENT_WITHDRAWN_REASON]).update(reason=REDACTED)
    _redact_patient(referral.patient)
    messages_stop_for_referral(referral_id=referral.pk)
    consent_withdrawn.send(sender=Referral, referral=referral, actor=actor)
    audit_record(actor=actor, action=AuditEvent.Action.REDACT, obj=referral, summary="consent withdrawn")
    referral.refresh_from_db()
    return referral


@transaction.atomic
def referral_set_case_status(*, referral: Referral, case_status: str, actor) -> Referral:
    """Write the business status (FHIR Task.businessStatus) that casework's case lifecycle decided for this
    referral, with an audit entry when it changes: casework (`casework.services.lifecycle`) decides it and
    checks who may set it. A referral has one only while it is accepted or in progress."""
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    case_status = CaseStatus(case_status) if case_status else ""
    if case_status and locked.status not in (S.ACCEPTED, S.IN_PROGRESS):
        raise DomainError("The case status can only be set while the case is open.")
    if locked.case_status != case_status:
        previous = locked.case_status
        locked.case_status = case_status
        locked.save(update_fields=["case_status", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=locked,
            summary=f"case status {previous or 'none'} -> {case_status or 'none'}",
        )
    referral.refresh_from_db()
    return locked
