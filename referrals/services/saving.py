"""Creating a referral, saving a draft and sending it: one form, once (a one-time token), at the version it
was loaded (optimistic locking), and never a second open referral of one patient without a reason."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from hjp.accounts.models import Organisation, Partnership
from hjp.accounts.roles import roles_for
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.core.errors import DomainError
from hjp.core.nhs_number import normalise_nhs_number
from hjp.core.references import new_reference
from hjp.core.submissions import once_per_submission
from hjp.core.versioning import StaleVersionError, check_version
from referrals import permissions
from referrals.clinics.services import clinic_booking_make
from referrals.deprivation import deprivation_decile_for
from referrals.models import Consent, Patient, Referral, ReferralStatus, ReferringPractitioner
from referrals.selectors import open_duplicates
from referrals.services.transitions import referral_transition
from referrals.validators import normalise_postcode

S = ReferralStatus


def _clean_patient_data(data: dict) -> dict:
    """The patient's details as stored. Names without surrounding spaces, whoever calls: the forms (and so API v1
    and FHIR, which go through them) strip them, a caller that skips the form may not, and the same-patient rule
    compares stored names exactly, but for case (referrals.selectors._SamePatient). The deprivation decile is
    never taken as given: it is looked up from the postcode (referrals.deprivation), and blank where no table is
    loaded or the postcode is not in it."""
    data = dict(data)
    data.pop("deprivation_decile", None)
    for name in ("given_name", "family_name"):
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
    if "nhs_number" in data:
        data["nhs_number"] = normalise_nhs_number(data["nhs_number"])
    if "postcode" in data:
        data["postcode"] = normalise_postcode(data["postcode"])
        data["deprivation_decile"] = deprivation_decile_for(data["postcode"])
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
    *, actor, advice_organisation_id: int, patient_data: dict, referral_data: dict, referral: Referral | None
) -> None:
    """Refuse a second open referral of the same patient to the same advice service that the referrer can see,
    unless a reason is given. One they cannot see (made in another organisation) is never revealed to them:
    the referral goes, and the advice service sees the possible duplicate at triage. Submissions to one
    advice service are serialised on its row, so that two sent at the same moment cannot both miss each
    other."""
    # NO KEY UPDATE: submissions queue behind each other; rows that merely refer to the organisation do not.
    Organisation.objects.select_for_update(no_key=True).get(pk=advice_organisation_id)
    duplicates = open_duplicates(
        user=actor,
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
    booking: dict | None = None,
    practitioner: dict | None = None,
) -> Referral:
    """Create a referral or update a draft, and submit it when `submit` is true.

    Editing a draft with `version` (the one its form was loaded with) refuses a stale one: StaleReferralError.
    Submitting needs consent scope 1 (sharing with the advice service), and refuses a second open referral of
    the same patient to the same advice service without a reason: DuplicateReferralError. With a
    `submission_token` (see hjp.core.submissions) a form sent twice saves once. `booking` (session_id, slot,
    interpreter, interpreter_language) books an advice clinic slot as the referral is sent, in its
    transaction: a slot taken meanwhile refuses the whole send (`SlotTakenError`); a draft holds no slot.
    `practitioner` (a new referral from a system: ReferringPractitioner's name, role, identifier_system and
    identifier, and optionally the `profession` it names) records the person behind the system account; their
    profession, when given, is the referral's referrer profession."""
    referral_data = dict(referral_data)
    partnership = referral_data["partnership"]
    _check_partnership(actor, partnership)
    ctx = referrer_context(actor)
    if submit:
        _check_not_duplicate(
            actor=actor,
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
        if practitioner and practitioner.get("profession"):
            referral.referrer_profession = practitioner["profession"]
    else:
        if practitioner:
            raise DomainError("Who referred is recorded when the referral is made.")
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
    if practitioner:
        named = ReferringPractitioner(referral=referral, **{k: v for k, v in practitioner.items() if k != "profession"})
        named.full_clean()
        named.save()
    audit_record(actor=actor, action=action, obj=referral, summary="referral saved as draft")
    if submit:
        if not consent.share_with_advice_service or not consent.given_at or not consent.method:
            raise DomainError(
                "Record the patient's consent to share the referral with the advice service before submitting."
            )
        referral_transition(referral=referral, to_status=S.SUBMITTED, actor=actor)
        referral.refresh_from_db()
        if booking:
            clinic_booking_make(referral=referral, actor=actor, **booking)
    return referral
