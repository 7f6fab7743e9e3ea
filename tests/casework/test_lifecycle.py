"""The case lifecycle has one owner (casework.services.lifecycle): every move of a case keeps the case's state, its
referral's state and the business status the referrer reads in step, and a refused move changes none of them."""

from datetime import timedelta
from itertools import product

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from casework import services
from casework.models import Case, CaseState, ClosureReason
from casework.services.lifecycle import TRANSITIONS, case_set_business_status, case_transition
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from hjp.notifications.models import Message
from referrals.models import CaseStatus, Referral, ReferralStatus
from referrals.services import consent_withdraw
from tests import factories

pytestmark = pytest.mark.django_db

C, S = CaseState, ReferralStatus
# What the referrer reads beside each case state, written out here rather than read from the table under test.
EXPECTED = {
    C.AWAITING_CONTACT: (S.ACCEPTED, CaseStatus.AWAITING_FIRST_CONTACT),
    C.IN_PROGRESS: (S.IN_PROGRESS, CaseStatus.GATHERING_EVIDENCE),
    C.CLOSED: (S.CLOSED, ""),
}
ALLOWED = {
    (C.AWAITING_CONTACT, C.IN_PROGRESS),  # first contact
    (C.AWAITING_CONTACT, C.CLOSED),  # closed before anyone reached the patient
    (C.IN_PROGRESS, C.CLOSED),
    (C.CLOSED, C.AWAITING_CONTACT),  # reopened, never contacted
    (C.CLOSED, C.IN_PROGRESS),  # reopened
}


def _case_in(state: str, *, contacted: bool) -> Case:
    """A case in `state` whose referral reads what that state implies, built straight in the database."""
    referral_status, business_status = EXPECTED[state]
    referral = factories.ReferralFactory(status=referral_status, case_status=business_status)
    now = timezone.now()
    closed = state == C.CLOSED
    return factories.CaseFactory(
        referral=referral,
        state=state,
        first_contact_at=now - timedelta(days=2) if contacted else None,
        closed_at=now - timedelta(days=1) if closed else None,
        closure_reason=ClosureReason.WORK_COMPLETED if closed else "",
    )


def _snapshot(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    referral = Referral.objects.get(pk=case.referral_id)
    return (
        case.state,
        case.version,
        case.first_contact_at,
        case.closed_at,
        case.closure_reason,
        referral.status,
        referral.case_status,
        referral.status_changes.count(),
        AuditEvent.objects.count(),
    )


def test_the_table_names_every_case_state():
    assert set(TRANSITIONS) == set(C.values)
    assert {(frm, to) for frm, stage in TRANSITIONS.items() for to in stage.next_states} == ALLOWED


@pytest.mark.parametrize(("from_state", "to_state"), list(product(C.values, C.values)))
def test_every_move_keeps_the_case_and_its_referral_in_step(from_state, to_state):
    # A case reopened to in progress had its first contact; one reopened to awaiting contact never did.
    contacted = from_state == C.IN_PROGRESS or (from_state == C.CLOSED and to_state != C.AWAITING_CONTACT)
    case = _case_in(from_state, contacted=contacted)
    supervisor = factories.advisor(case.referral.advice_organisation, supervisor=True)
    kwargs = {}
    if to_state == C.CLOSED:
        kwargs["closure_reason"] = ClosureReason.ADVICE_GIVEN
    if to_state == C.IN_PROGRESS and not contacted:
        kwargs["first_contact_at"] = timezone.now()

    if (from_state, to_state) not in ALLOWED:
        before = _snapshot(case)
        with pytest.raises(DomainError):
            case_transition(case=case, to_state=to_state, actor=supervisor, reason="Walking the table", **kwargs)
        assert _snapshot(case) == before
        return

    moved = case_transition(case=case, to_state=to_state, actor=supervisor, reason="Walking the table", **kwargs)

    case.refresh_from_db()
    referral = Referral.objects.get(pk=case.referral_id)
    assert moved.state == case.state == to_state
    assert (referral.status, referral.case_status) == EXPECTED[to_state]
    assert referral.status_changes.get().to_status == EXPECTED[to_state][0]
    assert case.is_open == (to_state != C.CLOSED)
    assert (case.closed_at is not None, case.closure_reason) == (
        (True, ClosureReason.ADVICE_GIVEN) if to_state == C.CLOSED else (False, "")
    )


@pytest.mark.parametrize("from_state", [C.AWAITING_CONTACT, C.IN_PROGRESS])
def test_a_withdrawal_of_consent_closes_the_case_beside_a_cancelled_referral(from_state):
    case = _case_in(from_state, contacted=from_state == C.IN_PROGRESS)

    consent_withdraw(referral=case.referral, actor=case.referral.referrer)

    case.refresh_from_db()
    referral = Referral.objects.get(pk=case.referral_id)
    assert (case.state, case.closure_reason) == (C.CLOSED, ClosureReason.CONSENT_WITHDRAWN)
    assert (referral.status, referral.case_status) == (S.CANCELLED, "")


def test_closing_for_a_withdrawal_of_consent_is_refused_while_the_referral_still_has_it():
    case = _case_in(C.IN_PROGRESS, contacted=True)
    before = _snapshot(case)
    with pytest.raises(DomainError, match="consent withdrawal"):
        case_transition(
            case=case, to_state=C.CLOSED, actor=case.advisor, closure_reason=ClosureReason.CONSENT_WITHDRAWN
        )
    assert _snapshot(case) == before


def test_a_case_reopened_before_anyone_reached_the_patient_awaits_first_contact_on_both_sides(
    case, advisor_user, supervisor_user
):
    """Reopening a case closed without a first contact used to leave its referral 'in progress' (with 'gathering
    evidence') beside a case awaiting first contact, and the first contact then left the referral's timeline
    without it."""
    closed = services.case_close(
        case=case, actor=advisor_user, version=case.version, closure_reason=ClosureReason.NO_CONTACT
    )
    notices = Message.objects.filter(referral_id=case.referral_id, subject__contains="accepted")
    accepted_notices = notices.count()

    reopened = services.case_reopen(
        case=closed, actor=supervisor_user, version=closed.version, reason="The patient called back."
    )

    referral = Referral.objects.get(pk=case.referral_id)
    assert reopened.state == C.AWAITING_CONTACT
    assert (referral.status, referral.case_status) == (S.ACCEPTED, CaseStatus.AWAITING_FIRST_CONTACT)
    assert referral.status_changes.last().reason == "The patient called back."
    # The referrer is not told a second time that the referral was accepted.
    assert notices.count() == accepted_notices == 1

    services.case_note_add(
        case=reopened,
        actor=advisor_user,
        kind="call",
        text="Spoke at last.",
        occurred_at=timezone.now(),
        first_contact=True,
    )
    referral.refresh_from_db()
    assert (referral.status, referral.case_status) == (S.IN_PROGRESS, CaseStatus.GATHERING_EVIDENCE)
    assert list(referral.status_changes.values_list("to_status", flat=True)) == [
        S.ACCEPTED,
        S.CLOSED,
        S.ACCEPTED,
        S.IN_PROGRESS,
    ]


def test_a_status_set_before_the_first_contact_survives_it(case, advisor_user):
    case_set_business_status(case=case, business_status=CaseStatus.CLAIM_LODGED, actor=advisor_user)
    services.case_note_add(
        case=case, actor=advisor_user, kind="call", text="Spoke.", occurred_at=timezone.now(), first_contact=True
    )
    assert Referral.objects.get(pk=case.referral_id).case_status == CaseStatus.CLAIM_LODGED


def test_a_case_in_progress_is_not_set_back_to_awaiting_first_contact(case_in_progress, advisor_user):
    """The case page's status list used to let an advisor tell the referrer a case in progress still awaited its
    first contact."""
    with pytest.raises(DomainError, match="in progress cannot have the status 'awaiting first contact'"):
        services.case_update(
            case=case_in_progress,
            actor=advisor_user,
            version=case_in_progress.version,
            summary="",
            case_status=CaseStatus.AWAITING_FIRST_CONTACT,
        )
    assert Referral.objects.get(pk=case_in_progress.referral_id).case_status == CaseStatus.GATHERING_EVIDENCE


def test_only_the_advice_service_sets_the_business_status_and_only_of_an_open_case(
    case_in_progress, advisor_user, referrer_user
):
    with pytest.raises(DomainError):
        case_set_business_status(case=case_in_progress, business_status=CaseStatus.APPEAL_LODGED, actor=referrer_user)
    closed = services.case_close(
        case=case_in_progress,
        actor=advisor_user,
        version=case_in_progress.version,
        closure_reason=ClosureReason.WORK_COMPLETED,
    )
    with pytest.raises(DomainError, match="only be set while the case is open"):
        case_set_business_status(case=closed, business_status=CaseStatus.APPEAL_LODGED, actor=advisor_user)
    assert Referral.objects.get(pk=closed.referral_id).case_status == ""


def test_the_edit_page_offers_only_the_statuses_the_case_can_have(client, case_in_progress, advisor_user):
    client.force_login(advisor_user)
    page = client.get(reverse("casework:case_edit", args=[case_in_progress.pk])).content.decode()
    assert 'value="awaiting_first_contact"' not in page and 'value="claim_lodged"' in page


def test_the_demo_cases_agree_with_their_referrals_and_their_timelines(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=None)

    cases = Case.objects.select_related("referral").prefetch_related("referral__status_changes")
    assert {case.state for case in cases} == set(C.values)
    for case in cases:
        referral = case.referral
        assert referral.status == EXPECTED[case.state][0], case.reference
        assert referral.case_status in TRANSITIONS[case.state].business_statuses, case.reference
        moves = {change.to_status: change.at for change in referral.status_changes.all()}
        assert case.opened_at == moves[S.ACCEPTED] > referral.submitted_at
        assert case.first_contact_at == moves.get(S.IN_PROGRESS)
        assert case.closed_at == moves.get(S.CLOSED)
