"""Consent scopes 2 and 3 given later or withdrawn on their own, on the patient's word: recorded like the original
consent, shown as the consent's history, and followed by what they allow (evidence requests, outcome feedback)
without stopping the case."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from casework import services as casework_services
from casework.models import EvidenceRequest
from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from hjp.core.redaction import REDACTED
from hjp.notifications.models import Message, MessageKind
from hjp.notifications.services import message_deliver
from outcomes import corrections, running_figures
from outcomes import services as outcome_services
from outcomes.models import OutcomeChange
from outcomes.selectors.digest import digest_figures
from outcomes.selectors.figures import Period
from referrals import services
from referrals.models import ConsentChange, ConsentScope, ReferralStatus
from tests import factories
from tests.support.snapshots import assert_matches_snapshot, message_text

EVIDENCE, FEEDBACK = ConsentScope.MEDICAL_EVIDENCE, ConsentScope.OUTCOME_FEEDBACK


def _change(referral, actor, scope, given, **kwargs):
    return services.consent_scope_change(
        referral=referral,
        actor=actor,
        scope=scope,
        given=given,
        method=kwargs.pop("method", ConsentChange.Method.PHONE),
        said_at=kwargs.pop("said_at", timezone.now() - timedelta(hours=1)),
        **kwargs,
    )


@pytest.fixture
def case(referral, advisor_user):
    return casework_services.referral_accept(referral=referral, actor=advisor_user)


@pytest.fixture
def case_in_progress(case, advisor_user):
    casework_services.case_note_add(
        case=case, actor=advisor_user, kind="call", text="First call.", occurred_at=timezone.now(), first_contact=True
    )
    case.refresh_from_db()
    return case


# --- the service --------------------------------------------------------------------------------------------


def test_withdrawing_scope_3_alone_is_recorded_like_consent_and_the_case_goes_on(case, referral, referrer_user):
    change = _change(referral, referrer_user, FEEDBACK, False, note="Said so on the phone.")
    referral.refresh_from_db()
    assert not referral.consent.outcome_feedback and referral.consent.medical_evidence
    assert not referral.consent.is_withdrawn
    assert referral.status == ReferralStatus.ACCEPTED
    case.refresh_from_db()
    assert case.is_open
    assert (change.recorded_by, change.method, change.given_by, change.note) == (
        referrer_user,
        "phone",
        "patient",
        "Said so on the phone.",
    )
    assert AuditEvent.objects.filter(object_id=str(referral.pk), summary="consent scope 3 withdrawn").exists()


def test_scope_2_can_be_given_later_by_the_advisor(advisor_user, health_org, partnership, referrer_user):
    referral = factories.ReferralFactory(
        referrer=referrer_user,
        referring_organisation=health_org,
        partnership=partnership,
        consent__medical_evidence=False,
    )
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    with pytest.raises(DomainError, match="did not consent"):
        casework_services.evidence_request_create(
            case=case, actor=advisor_user, what_is_needed="A letter.", due_date=timezone.localdate()
        )
    _change(referral, advisor_user, EVIDENCE, True, given_by="representative", representative_name="Ann Lee")
    casework_services.evidence_request_create(
        case=case, actor=advisor_user, what_is_needed="A letter.", due_date=timezone.localdate()
    )
    assert ConsentChange.objects.get().representative_name == "Ann Lee"


def test_a_change_that_changes_nothing_or_comes_too_late_is_refused(referral, referrer_user, advisor_user):
    with pytest.raises(DomainError, match="already so"):
        _change(referral, referrer_user, FEEDBACK, True)
    with pytest.raises(DomainError, match="cannot be in the future"):
        _change(referral, referrer_user, FEEDBACK, False, said_at=timezone.now() + timedelta(days=1))
    services.consent_withdraw(referral=referral, actor=referrer_user)
    with pytest.raises(DomainError, match="cannot be changed"):
        _change(referral, advisor_user, FEEDBACK, False)


def test_someone_of_another_organisation_may_not(referral):
    stranger = factories.referrer(factories.OrganisationFactory())
    with pytest.raises(DomainError, match="cannot be changed"):
        _change(referral, stranger, FEEDBACK, False)


# --- scope 2: evidence requests -----------------------------------------------------------------------------


def test_withdrawing_scope_2_cancels_open_evidence_requests_with_a_notice(
    case, referral, advisor_user, referrer_user, django_capture_on_commit_callbacks
):
    open_request = factories.EvidenceRequestFactory(case=case)
    answered = factories.EvidenceRequestFactory(case=case)
    casework_services.evidence_request_answer(evidence=answered, actor=referrer_user, text="Enclosed.")
    with django_capture_on_commit_callbacks(execute=True):
        _change(referral, advisor_user, EVIDENCE, False)
    open_request.refresh_from_db()
    answered.refresh_from_db()
    assert (open_request.state, answered.state) == (EvidenceRequest.State.CANCELLED, EvidenceRequest.State.ANSWERED)
    notice = Message.objects.get(key=f"evidence_request:{open_request.pk}:cancelled")
    assert notice.recipient == referrer_user and notice.status == Message.Status.DELIVERED
    case.refresh_from_db()
    assert case.is_open
    with pytest.raises(DomainError, match="did not consent"):
        casework_services.evidence_request_create(
            case=case, actor=advisor_user, what_is_needed="Another letter.", due_date=timezone.localdate()
        )


@pytest.mark.django_db
def test_the_evidence_cancelled_notice(time_machine):
    time_machine.move_to(datetime(2026, 11, 10, 12, tzinfo=UTC))
    case = factories.CaseFactory(
        referral__reference="RSNAP004",
        referral__patient__given_name="Barbara",
        referral__patient__family_name="Kowalski",
    )
    case.referral.advice_organisation.name = "Leeds Welfare Rights"
    case.referral.advice_organisation.save()
    factories.EvidenceRequestFactory(case=case)
    _change(case.referral, case.advisor, EVIDENCE, False)
    notice = Message.objects.get(key__endswith=":cancelled")
    assert_matches_snapshot(message_text(notice), "evidence_cancelled")


# --- scope 3: outcome feedback ------------------------------------------------------------------------------


def _close_with_money(case, advisor_user):
    factories.FinancialOutcomeFactory(issue=case.issues.get(), recurring_amount=Decimal("80"))
    case.refresh_from_db()
    return outcome_services.case_close_with_outcomes(
        case=case, actor=advisor_user, version=case.version, closure_reason="work_completed"
    )


def test_after_scope_3_is_withdrawn_the_outcome_report_says_only_that_the_case_closed(
    case, referral, referrer_user, advisor_user, django_capture_on_commit_callbacks
):
    _change(referral, referrer_user, FEEDBACK, False)
    with django_capture_on_commit_callbacks(execute=True):  # the Celery task runs (eagerly) after the commit
        _close_with_money(case, advisor_user)
    report = Message.objects.get(kind=MessageKind.OUTCOME_REPORT)
    assert report.status == Message.Status.DELIVERED
    assert "says only that the case has closed" in report.body
    assert "£80.00" not in report.body


def test_a_report_still_waiting_when_scope_3_is_withdrawn_goes_without_the_outcomes(
    case, referral, referrer_user, advisor_user
):
    _close_with_money(case, advisor_user)  # queued; the broker has not delivered it yet
    report = Message.objects.get(kind=MessageKind.OUTCOME_REPORT)
    assert "£80.00" in report.body
    _change(referral, referrer_user, FEEDBACK, False)
    message_deliver(message_id=report.pk)  # what the Celery task does
    report.refresh_from_db()
    assert report.status == Message.Status.DELIVERED
    assert "£80.00" not in report.body
    assert "says only that the case has closed" in report.body


def test_giving_scope_3_after_the_close_sends_the_outcome_report_then(
    advisor_user, referrer_user, health_org, partnership, django_capture_on_commit_callbacks
):
    referral = factories.ReferralFactory(
        referrer=referrer_user,
        referring_organisation=health_org,
        partnership=partnership,
        consent__outcome_feedback=False,
    )
    case = casework_services.referral_accept(referral=referral, actor=advisor_user)
    with django_capture_on_commit_callbacks(execute=True):
        _close_with_money(case, advisor_user)
    assert "£80.00" not in Message.objects.get(kind=MessageKind.OUTCOME_REPORT).body
    with django_capture_on_commit_callbacks(execute=True):
        _change(referral, referrer_user, FEEDBACK, True, method="written")
    later = Message.objects.filter(kind=MessageKind.OUTCOME_REPORT).latest("pk")
    assert later.status == Message.Status.DELIVERED
    assert "£80.00 weekly" in later.body
    assert Message.objects.filter(kind=MessageKind.OUTCOME_REPORT).count() == 2


def test_the_digest_leaves_out_the_outcomes_of_a_patient_who_withdrew_scope_3(
    case, referral, referrer_user, advisor_user, health_org
):
    _close_with_money(case, advisor_user)
    case.refresh_from_db()
    month = timezone.localtime(case.closed_at).date()
    period = Period.month(month.year, month.month)
    running_figures.refresh_pending()  # as the digest's delivery does before it composes
    assert digest_figures(organisation=health_org, period=period).money.confirmed.total == Decimal("4160.00")
    _change(referral, referrer_user, FEEDBACK, False)
    running_figures.refresh_pending()
    figures = digest_figures(organisation=health_org, period=period)
    assert figures.money.confirmed.total == Decimal("0.00")
    assert figures.closed == 1  # the case still counts as closed


def test_a_digest_not_yet_sent_reads_the_figures_when_it_is_delivered(
    case, advisor_user, supervisor_user, referrer_user, health_org, partnership
):
    closed = [_close_with_money(case, advisor_user)]
    for _ in range(9):  # ten cases, so that the digest shows the money (fewer is withheld: outcomes.disclosure)
        referral = factories.ReferralFactory(
            referrer=referrer_user, referring_organisation=health_org, partnership=partnership
        )
        closed.append(
            _close_with_money(casework_services.referral_accept(referral=referral, actor=advisor_user), advisor_user)
        )
    month = timezone.localtime(closed[0].closed_at).date()
    outcome_services.send_monthly_digests(year=month.year, month=month.month)
    digest = Message.objects.get(kind=MessageKind.DIGEST, recipient=referrer_user)
    assert "£41,600.00" in digest.body  # 10 x £80 a week for a year, as queued
    money = closed[0].issues.get().financial_outcomes.get()
    corrections.outcome_mark_entered_in_error(outcome=money, actor=supervisor_user, version=1, reason="Wrong case.")
    message_deliver(message_id=digest.pk)  # what the Celery task does, later
    digest.refresh_from_db()
    assert digest.status == Message.Status.DELIVERED
    assert "£41,600.00" not in digest.body
    assert "Money gained for patients, confirmed: not shown for fewer than 10 cases" in digest.body  # now 9


# --- the pages ----------------------------------------------------------------------------------------------


def _form(**overrides):
    return {
        "change": "outcome_feedback:withdraw",
        "given_by": "patient",
        "method": "phone",
        "said_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "note": "",
    } | overrides


def test_the_referrer_records_a_change_and_both_pages_show_the_history(
    as_user, case, referral, referrer_user, advisor_user
):
    referrer_user.full_name = "Gina GP"
    referrer_user.save()
    client = as_user(referrer_user)
    url = reverse("referrals:consent_change", args=[referral.pk])
    page = client.get(url).content.decode()
    assert "Withdraws consent 3: outcomes may be reported back to the referrer" in page
    assert "Withdraws consent 2: the advisor may ask the referrer for medical evidence" in page
    response = client.post(url, _form())
    assert response.status_code == 302 and response["Location"] == reverse("referrals:detail", args=[referral.pk])
    history = "Scope 3 withdrawn by the patient, by phone,"
    assert history in client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    advisor_page = as_user(advisor_user).get(reverse("casework:case", args=[case.pk])).content.decode()
    assert history in advisor_page
    assert "recorded by Gina GP." in advisor_page
    assert reverse("referrals:consent_change", args=[referral.pk]) + "?from=case" in advisor_page


def test_the_advisor_records_a_change_from_the_case_page_and_goes_back_to_it(as_user, case, referral, advisor_user):
    url = reverse("referrals:consent_change", args=[referral.pk]) + "?from=case"
    response = as_user(advisor_user).post(url, _form(change="medical_evidence:withdraw", method="in_person"))
    assert response["Location"] == reverse("casework:case", args=[case.pk])


def test_bad_input_is_explained_and_kept(as_user, referral, referrer_user):
    url = reverse("referrals:consent_change", args=[referral.pk])
    response = as_user(referrer_user).post(
        url, _form(given_by="representative", said_at="2999-01-01T10:00", note="Her daughter rang.")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter the representative&#x27;s full name" in html
    assert "When the patient said so cannot be in the future." in html
    assert "Her daughter rang." in html
    assert not ConsentChange.objects.exists()


def test_no_change_of_consent_once_it_is_all_withdrawn(as_user, referral, referrer_user):
    services.consent_withdraw(referral=referral, actor=referrer_user)
    client = as_user(referrer_user)
    assert client.get(reverse("referrals:consent_change", args=[referral.pk])).status_code == 404
    assert (
        "Record a change of consent" not in client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    )


# --- the referrer's outcome page ----------------------------------------------------------------------------


def test_the_referrers_outcome_page_follows_corrections_and_scope_3(
    as_user, case, referral, referrer_user, advisor_user, supervisor_user, django_assert_num_queries
):
    closed = _close_with_money(case, advisor_user)
    client = as_user(referrer_user)
    url = reverse("outcomes:referral_outcome", args=[referral.pk])
    assert url in client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    client.get(url)
    with django_assert_num_queries(REFERRER_OUTCOME_PAGE_QUERIES):
        html = client.get(url).content.decode()
    assert "£80.00 weekly (£4,160.00 a year)" in html
    money = closed.issues.get().financial_outcomes.get()
    corrections.outcome_update(outcome=money, actor=supervisor_user, version=1, recurring_amount=Decimal("90"))
    factories.DecisionOutcomeFactory(issue=closed.issues.get())
    factories.FinancialOutcomeFactory(issue=factories.CaseIssueFactory(case=closed), one_off_amount=10)
    with django_assert_num_queries(REFERRER_OUTCOME_PAGE_QUERIES):
        html = client.get(url).content.decode()
    assert "£90.00 weekly (£4,680.00 a year)" in html
    _change(referral, referrer_user, FEEDBACK, False)
    html = client.get(url).content.decode()
    assert "The patient has not agreed to share the outcome with you." in html
    assert "£90.00" not in html


# Session, the user (with its inbox count and second-factor devices), memberships, the
# referral with its case, the audit entry, the issues and their three kinds of counted outcome,
# the money total: the same with more rows.
REFERRER_OUTCOME_PAGE_QUERIES = 10


def test_a_withdrawal_of_all_consent_erases_what_corrections_and_changes_of_consent_say(
    case_in_progress, referral, referrer_user, advisor_user
):
    _change(
        referral,
        referrer_user,
        EVIDENCE,
        False,
        given_by="representative",
        representative_name="Ann Lee",
        note="Her daughter Ann rang from 12 Elm Road.",
    )
    issue = case_in_progress.issues.get()
    other = factories.NonFinancialOutcomeFactory(issue=issue, note="Kept the flat at 12 Elm Road.")
    corrections.outcome_update(
        outcome=other, actor=advisor_user, version=1, note="Kept 12 Elm Road.", reason="Mrs Lee said so."
    )
    money = factories.FinancialOutcomeFactory(issue=issue)
    corrections.outcome_mark_entered_in_error(outcome=money, actor=advisor_user, version=1, reason="Mrs Lee's award.")
    note = casework_services.case_note_add(
        case=case_in_progress, actor=advisor_user, kind="call", text="x", occurred_at=timezone.now()
    )
    casework_services.case_note_mark_entered_in_error(note=note, actor=advisor_user, reason="Mrs Lee's neighbour.")

    services.consent_withdraw(referral=referral, actor=referrer_user)

    change = ConsentChange.objects.get()
    assert (change.note, change.representative_name, change.method) == (REDACTED, "", "phone")
    history = OutcomeChange.objects.get(outcome_kind="non-financial")
    assert history.reason == REDACTED
    assert history.changes == [{"field": "note", "old": REDACTED, "new": REDACTED}]
    money.refresh_from_db()
    note.refresh_from_db()
    assert money.entered_in_error_reason == REDACTED and money.is_entered_in_error
    assert note.entered_in_error_reason == REDACTED
