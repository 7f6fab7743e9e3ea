import pytest
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from referrals import services
from referrals.models import ReferralStatus, ReferralStatusChange
from referrals.services import TRANSITIONS
from tests import factories

S = ReferralStatus


def _actor_for(side, referral):
    if side == "referrer":
        return referral.referrer
    return factories.advisor(referral.advice_organisation, supervisor=(side == "supervisor"))


ALLOWED = [(frm, to, sorted(who - {"consent"})[0]) for (frm, to), who in TRANSITIONS.items() if who - {"consent"}]


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status", "side"), ALLOWED)
def test_every_allowed_transition_changes_state_and_records_who_when_why(from_status, to_status, side):
    referral = factories.ReferralFactory(
        status=from_status, submitted_at=None if from_status == S.DRAFT else timezone.now()
    )
    actor = _actor_for(side, referral)

    services.referral_transition(referral=referral, to_status=to_status, actor=actor, reason="Because")

    referral.refresh_from_db()
    assert referral.status == to_status
    step = ReferralStatusChange.objects.get(referral=referral)
    assert (step.from_status, step.to_status, step.actor, step.reason) == (from_status, to_status, actor, "Because")
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.TRANSITION, object_id=str(referral.pk), actor=actor
    ).exists()


REFUSED = [
    (S.DRAFT, S.ACCEPTED, "advisor", "cannot become accepted"),
    (S.SUBMITTED, S.CLOSED, "advisor", "cannot become closed"),
    (S.DECLINED, S.ACCEPTED, "advisor", "cannot become accepted"),
    (S.CLOSED, S.CANCELLED, "referrer", "cannot become cancelled"),
    (S.CANCELLED, S.SUBMITTED, "referrer", "cannot become submitted"),
    (S.ENTERED_IN_ERROR, S.SUBMITTED, "referrer", "cannot become submitted"),
    (S.SUBMITTED, S.ACCEPTED, "referrer", "You may not"),  # only the advice service accepts
    (S.SUBMITTED, S.ENTERED_IN_ERROR, "advisor", "You may not"),
    (S.ACCEPTED, S.CANCELLED, "referrer", "You may not"),  # only through a consent withdrawal
    (S.CLOSED, S.IN_PROGRESS, "advisor", "You may not"),  # reopening is for supervisors
    (S.SUBMITTED, S.SUBMITTED, "referrer", "already submitted"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status", "side", "message"), REFUSED)
def test_other_transitions_are_refused_with_a_clear_message(from_status, to_status, side, message):
    referral = factories.ReferralFactory(status=from_status)
    with pytest.raises(DomainError, match=message):
        services.referral_transition(
            referral=referral, to_status=to_status, actor=_actor_for(side, referral), reason="x"
        )
    referral.refresh_from_db()
    assert referral.status == from_status
    assert not ReferralStatusChange.objects.filter(referral=referral).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("to_status", [S.DECLINED, S.REDIRECTED, S.CANCELLED, S.ENTERED_IN_ERROR])
def test_a_reason_is_required_for_declined_redirected_cancelled_and_entered_in_error(to_status):
    referral = factories.ReferralFactory(status=S.SUBMITTED)
    side = "advisor" if to_status in (S.DECLINED, S.REDIRECTED) else "referrer"
    with pytest.raises(DomainError, match="Give a reason"):
        services.referral_transition(
            referral=referral, to_status=to_status, actor=_actor_for(side, referral), reason="  "
        )
    referral.refresh_from_db()
    assert referral.status == S.SUBMITTED


@pytest.mark.django_db
@pytest.mark.parametrize(("to_status", "decline_reason"), [(S.REDIRECTED, "out_of_area"), (S.DECLINED, "because")])
def test_a_coded_reason_is_only_for_a_decline_and_only_from_the_list(to_status, decline_reason):
    referral = factories.ReferralFactory(status=S.SUBMITTED)
    with pytest.raises(DomainError, match="A coded reason is given only for declining"):
        services.referral_transition(
            referral=referral,
            to_status=to_status,
            actor=_actor_for("advisor", referral),
            reason="Words",
            decline_reason=decline_reason,
        )
    assert not ReferralStatusChange.objects.filter(referral=referral).exists()


@pytest.mark.django_db
def test_the_decline_notice_gives_the_referrer_the_reason_and_the_explanation():
    from hjp.notifications.models import Message, MessageKind

    referral = factories.ReferralFactory(status=S.SUBMITTED)
    services.referral_transition(
        referral=referral,
        to_status=S.DECLINED,
        actor=_actor_for("advisor", referral),
        reason="Try the county service.",
        decline_reason="out_of_area",
    )
    notice = Message.objects.get(kind=MessageKind.STATUS_NOTICE, referral_id=referral.pk)
    assert "Reason from the advice service: Patient lives outside our area. Try the county service." in notice.body


@pytest.mark.django_db
def test_an_advisor_of_another_advice_service_cannot_accept():
    referral = factories.ReferralFactory(status=S.SUBMITTED)
    stranger = factories.advisor()
    with pytest.raises(DomainError):
        services.referral_transition(referral=referral, to_status=S.ACCEPTED, actor=stranger)


@pytest.mark.django_db
def test_a_move_changes_the_referrals_own_state_and_leaves_the_case_status_to_casework():
    """The business status of an accepted referral is its case's: casework's case lifecycle sets it (see
    tests/casework/test_lifecycle.py)."""
    referral = factories.ReferralFactory(status=S.SUBMITTED)
    advisor = factories.advisor(referral.advice_organisation)
    services.referral_transition(referral=referral, to_status=S.ACCEPTED, actor=advisor)
    referral.refresh_from_db()
    assert referral.case_status == ""
    assert referral.fhir_status == "accepted"
    services.referral_transition(referral=referral, to_status=S.IN_PROGRESS, actor=advisor)
    referral.refresh_from_db()
    assert referral.case_status == ""
    assert referral.fhir_status == "in-progress"


def _form_data(partnership, **consent):
    return dict(
        patient_data={
            "given_name": "Maria",
            "family_name": "Kowalski",
            "nhs_number": "943 476 5919",
            "postcode": "ls6 2ab",
            "phone": "07700 900123",
        },
        consent_data={
            "given_by": "patient",
            "method": "verbal",
            "given_at": timezone.now(),
            "share_with_advice_service": True,
            **consent,
        },
        referral_data={
            "partnership": partnership,
            "description": "PIP refused",
            "urgency": "routine",
            "setting": "primary_care",
        },
    )


@pytest.mark.django_db
def test_submitting_needs_consent_to_share_with_the_advice_service(referrer_user, partnership):
    with pytest.raises(DomainError, match="consent"):
        services.referral_save(
            actor=referrer_user, submit=True, **_form_data(partnership, share_with_advice_service=False)
        )


@pytest.mark.django_db
def test_a_draft_then_a_submission(referrer_user, partnership):
    draft = services.referral_save(actor=referrer_user, submit=False, **_form_data(partnership))
    assert draft.status == S.DRAFT and draft.submitted_at is None
    assert draft.patient.nhs_number == "9434765919"
    assert draft.patient.postcode == "LS6 2AB"
    assert draft.advice_organisation == partnership.advice_organisation

    sent = services.referral_save(actor=referrer_user, referral=draft, submit=True, **_form_data(partnership))
    assert sent.pk == draft.pk
    assert sent.status == S.SUBMITTED and sent.submitted_at is not None
    assert sent.consent.recorded_by == referrer_user
    assert list(sent.status_changes.values_list("to_status", flat=True)) == [S.SUBMITTED]


@pytest.mark.django_db
def test_a_referrer_cannot_refer_to_a_partnership_their_organisation_is_not_in(referrer_user):
    elsewhere = factories.PartnershipFactory(health_organisations=[factories.OrganisationFactory()])
    with pytest.raises(DomainError, match="not a member"):
        services.referral_save(actor=referrer_user, submit=False, **_form_data(elsewhere))


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "end"), [(-400, -1), (10, None)])
def test_a_referrer_cannot_refer_to_a_partnership_that_is_not_running(referrer_user, health_org, start, end):
    from datetime import timedelta

    from referrals import selectors

    today = timezone.localdate()
    not_running = factories.PartnershipFactory(
        health_organisations=[health_org],
        start_date=today + timedelta(days=start),
        end_date=None if end is None else today + timedelta(days=end),
    )
    assert not_running not in selectors.partnerships_for_referrer(referrer_user)
    with pytest.raises(DomainError, match="not running"):
        services.referral_save(actor=referrer_user, submit=True, **_form_data(not_running))


@pytest.mark.django_db
@pytest.mark.parametrize("status", [S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS])
def test_consent_withdrawal_stops_work_cancels_and_redacts_the_patient(status):
    referral = factories.ReferralFactory(status=status, patient__nhs_number="9434765919")
    advisor = factories.advisor(referral.advice_organisation)

    services.consent_withdraw(referral=referral, actor=advisor)

    referral.refresh_from_db()
    patient = referral.patient
    assert referral.status == S.CANCELLED
    assert referral.status_changes.last().reason == services.CONSENT_WITHDRAWN_REASON
    assert referral.consent.withdrawn_at is not None and referral.consent.withdrawn_by == advisor
    assert not referral.consent.allows_outcome_feedback and not referral.consent.allows_evidence_requests
    assert patient.redacted_at is not None
    assert (patient.nhs_number, patient.phone, patient.address, patient.postcode, patient.date_of_birth) == (
        "",
        "",
        "",
        "",
        None,
    )
    assert "Kowalski" not in str(patient) and "PIP" not in referral.description
    # What aggregates count remains.
    assert referral.submitted_at is not None and referral.categories.exists()


@pytest.mark.django_db
def test_consent_withdrawal_keeps_a_closed_referral_closed_but_redacts_it():
    referral = factories.ReferralFactory(status=S.CLOSED)
    services.consent_withdraw(referral=referral, actor=referral.referrer)
    referral.refresh_from_db()
    assert referral.status == S.CLOSED
    assert referral.patient.redacted_at is not None


@pytest.mark.django_db
def test_consent_cannot_be_withdrawn_twice_or_by_a_stranger():
    referral = factories.ReferralFactory(status=S.SUBMITTED)
    with pytest.raises(DomainError):
        services.consent_withdraw(referral=referral, actor=factories.referrer())
    services.consent_withdraw(referral=referral, actor=referral.referrer)
    with pytest.raises(DomainError):
        services.consent_withdraw(referral=referral, actor=referral.referrer)


@pytest.mark.django_db
def test_consent_withdrawal_removes_the_name_of_the_representative_who_consented():
    referral = factories.ReferralFactory(
        status=S.SUBMITTED,
        consent__given_by="representative",
        consent__representative_name="Anna Kowalski",
        consent__representative_authority="Daughter, lasting power of attorney",
    )
    services.consent_withdraw(referral=referral, actor=referral.referrer)
    referral.consent.refresh_from_db()
    assert referral.consent.representative_name == ""
    assert "Kowalski" not in referral.consent.representative_authority
    assert referral.consent.given_by == "representative"


@pytest.mark.django_db
def test_a_referral_whose_consent_was_withdrawn_changes_state_no_more():
    referral = factories.ReferralFactory(status=S.CLOSED)
    supervisor = factories.advisor(referral.advice_organisation, supervisor=True)
    services.consent_withdraw(referral=referral, actor=referral.referrer)
    with pytest.raises(DomainError, match="withdrew their consent"):
        services.referral_transition(referral=referral, to_status=S.IN_PROGRESS, actor=supervisor, reason="Reopen")
    referral.refresh_from_db()
    assert referral.status == S.CLOSED
