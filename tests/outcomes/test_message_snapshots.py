"""The wording of every message outcomes sends, compared with reviewed snapshots in tests/snapshots/."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from hjp.notifications.models import Message, MessageKind
from outcomes import services
from outcomes.models import NonFinancialOutcome
from tests import factories
from tests.support.snapshots import assert_matches_snapshot, message_text

pytestmark = pytest.mark.django_db


def _at(day: int, month: int = 10) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, 11))


def _closed_case(*, outcome_feedback: bool = True):
    referral = factories.ReferralFactory(
        reference="RSNAP001",
        patient__given_name="Barbara",
        patient__family_name="Kowalski",
        advice_organisation__name="Leeds Welfare Rights",
        consent__outcome_feedback=outcome_feedback,
    )
    referral.advice_organisation.name = "Leeds Welfare Rights"
    referral.advice_organisation.save()
    case = factories.CaseFactory(referral=referral, state="closed", closed_at=_at(20), closure_reason="work_completed")
    issue = factories.CaseIssueFactory(case=case)
    factories.DecisionOutcomeFactory(issue=issue, stage="mandatory_reconsideration", result="awarded")
    factories.FinancialOutcomeFactory(issue=issue, recurring_amount=Decimal("108.55"), recurring_period="weekly")
    factories.FinancialOutcomeFactory(
        issue=issue,
        kind="backdated_award",
        benefit=None,
        recurring_amount=None,
        recurring_period="",
        one_off_amount=Decimal("1250.00"),
        confirmed=False,
    )
    NonFinancialOutcome.objects.create(issue=issue, kind="debt_arrangement", recorded_by=case.advisor)
    factories.WellbeingScoreFactory(case=case, moment="start", score=14)
    factories.WellbeingScoreFactory(case=case, moment="close", score=21)
    return case


def test_the_outcome_report():
    services.queue_outcome_report(case=_closed_case())
    assert_matches_snapshot(message_text(Message.objects.get(kind=MessageKind.OUTCOME_REPORT)), "outcome_report")


def test_the_outcome_report_without_consent_to_outcome_feedback():
    services.queue_outcome_report(case=_closed_case(outcome_feedback=False))
    assert_matches_snapshot(
        message_text(Message.objects.get(kind=MessageKind.OUTCOME_REPORT)), "outcome_report_no_feedback_consent"
    )


def _digest_world(*, referrals: int, closed: int, earlier_each_month: int = 0):
    """`referrals` in October 2026 (the first `closed` of them closed, with outcomes), and `earlier_each_month`
    in each of the eleven months before (two thirds of them closed), for the twelve-month and year-to-date
    figures."""
    health = factories.OrganisationFactory(name="Riverside Surgery")
    partnership = factories.PartnershipFactory(health_organisations=[health])
    referrer = factories.referrer(health)

    def refer(submitted, closed_at, i):
        referral = factories.ReferralFactory(
            referring_organisation=health, referrer=referrer, partnership=partnership, submitted_at=submitted
        )
        if closed_at:
            case = factories.CaseFactory(
                referral=referral, state="closed", closed_at=closed_at, closure_reason="work_completed"
            )
            issue = factories.CaseIssueFactory(case=case)
            factories.DecisionOutcomeFactory(issue=issue, result="refused" if i == 0 else "awarded")
            factories.FinancialOutcomeFactory(issue=issue, confirmed=i % 4 != 0)

    for i in range(referrals):
        refer(_at(1 + i), _at(10 + i) if i < closed else None, i)
    for months_back in range(1, 12):
        year, month = (2026, 10 - months_back) if months_back < 10 else (2025, 22 - months_back)
        for i in range(earlier_each_month):
            submitted = timezone.make_aware(datetime(year, month, 2 + i, 11))
            refer(submitted, submitted.replace(day=20) if i % 3 else None, i)
    return referrer


@pytest.mark.parametrize(
    ("name", "referrals", "closed", "earlier_each_month"),
    [
        ("digest", 8, 7, 3),
        ("digest_small_numbers", 3, 2, 0),
    ],
)
def test_the_monthly_digest(name, referrals, closed, earlier_each_month):
    referrer = _digest_world(referrals=referrals, closed=closed, earlier_each_month=earlier_each_month)
    services.send_monthly_digests(year=2026, month=10)
    assert_matches_snapshot(message_text(Message.objects.get(kind=MessageKind.DIGEST, recipient=referrer)), name)


def test_the_evidence_reminders_due_and_overdue():
    case = factories.CaseFactory(
        referral__reference="RSNAP002",
        referral__patient__given_name="Barbara",
        referral__patient__family_name="Kowalski",
    )
    case.referral.advice_organisation.name = "Leeds Welfare Rights"
    case.referral.advice_organisation.save()
    due = factories.EvidenceRequestFactory(case=case, due_date=date(2026, 11, 12))
    overdue = factories.EvidenceRequestFactory(case=case, due_date=date(2026, 11, 2))
    services.send_daily_reminders(today=date(2026, 11, 10))
    for evidence, name in ((due, "evidence_reminder"), (overdue, "evidence_reminder_overdue")):
        message = Message.objects.get(
            kind=MessageKind.EVIDENCE_REMINDER, key__startswith=f"evidence_reminder:{evidence.pk}:"
        )
        assert_matches_snapshot(message_text(message), name)


def test_the_deadline_reminder():
    case = factories.CaseFactory()
    factories.DeadlineFactory(case=case, due_date=date(2026, 11, 9))
    for day in (10, 11, 12):
        factories.DeadlineFactory(case=case, due_date=date(2026, 11, day))
    services.send_daily_reminders(today=date(2026, 11, 10))
    assert_matches_snapshot(message_text(Message.objects.get(kind=MessageKind.DEADLINE_REMINDER)), "deadline_reminder")
