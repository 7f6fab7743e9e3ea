"""Every main page of every role takes at most PAGE_QUERY_BUDGET queries, the audit entry included, and the same
number with few rows as with many (issue 12). What every signed-in page spends before its view is
tests/core/test_request_overhead.py; each page's own pinned test says what its queries are."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework import services as casework_services
from hjp.audit.models import AuditEvent
from hjp.audit.services import audit_record
from hjp.notifications import services as notification_services
from hjp.notifications.models import MessageKind
from outcomes import patient_voice, running_figures
from outcomes.models import FinancialOutcome, OutcomeChange, OutcomeKind
from referrals.models import ConsentChange, ReferralStatus
from tests import factories
from tests.casework.test_queries import _fill_case
from tests.support.auth import Client

pytestmark = pytest.mark.django_db

PAGE_QUERY_BUDGET = 10
PERIOD = {"period": "quarter-2025-4"}
NHS_NUMBER = "9434765919"

# (who, page, exact queries). `who` names a user of the World below; the page is a URL name with its arguments.
PAGES = [
    ("referrer", "referrals:home", 6),
    ("referrer", "referrals:list", 6),
    ("referrer", "referrals:detail", 9),
    ("referrer", "outcomes:referral_outcome", 10),
    ("referrer", "casework:evidence_list", 5),
    ("referrer", "notifications:inbox", 6),
    ("advisor", "casework:home", 10),
    ("advisor", "casework:today_list:appointments", 5),
    ("advisor", "casework:today_list:deadlines", 5),
    ("advisor", "casework:today_list:evidence", 5),
    ("advisor", "referrals:list", 6),
    ("advisor", "referrals:detail", 10),
    ("advisor", "casework:triage", 9),
    ("advisor", "casework:caseload", 7),
    ("supervisor", "casework:caseload:organisation", 9),
    ("advisor", "casework:case", 10),
    ("supervisor", "outcomes:who_looked", 8),
    ("dpo", "outcomes:subject_access", 5),
    ("dpo", "outcomes:subject_access:search", 7),
    ("manager", "outcomes:dashboard", 8),
    ("funder", "outcomes:funder_report", 9),  # 9: the case studies included in it
    ("funder", "outcomes:funder_report_csv", 9),
    ("funder", "outcomes:funder_report_pdf", 10),
    # The case's other pages: its outcomes, and the forms that add to it or change it.
    ("advisor", "outcomes:case_outcomes", 10),
    ("advisor", "outcomes:outcome_edit", 7),
    ("advisor", "outcomes:patient_voice", 7),
    ("advisor", "casework:case_edit", 5),
    ("supervisor", "casework:reallocate", 6),
    ("advisor", "casework:note_add", 5),
    ("advisor", "casework:issue_add", 7),
    ("advisor", "casework:issue_edit", 8),
    ("advisor", "casework:issue_resolve", 6),
    ("advisor", "casework:appointment_add", 5),
    ("advisor", "casework:appointment_edit", 6),
    ("advisor", "casework:deadline_add", 6),
    ("advisor", "casework:evidence_add", 6),
    ("advisor", "casework:onward_add", 7),
    ("advisor", "casework:providers", 4),
    ("referrer", "referrals:create", 8),
    ("referrer", "referrals:withdraw_consent", 8),
    ("advisor", "referrals:consent_change", 8),
    ("referrer", "notifications:detail", 9),  # an outcome report: and whether the referrer rated the service
    ("advisor", "accounts:security", 6),
    # Whether figures wait to be counted, the teams, the cells; a lead's partnership's organisations (a
    # supervisor's partnerships, one more); a champion's latest outcomes.
    ("manager", "outcomes:engagement", 7),
    ("supervisor", "outcomes:engagement", 8),
    ("champion", "outcomes:engagement", 8),
]
REFERRAL_PAGES = (
    "referrals:detail",
    "outcomes:referral_outcome",
    "referrals:withdraw_consent",
    "referrals:consent_change",
)
# The case's pages that take the case and one of its rows.
CASE_ROW_PAGES = {
    "outcomes:outcome_edit": lambda case: ["financial", FinancialOutcome.objects.filter(issue__case=case).first().pk],
    "casework:issue_edit": lambda case: [case.issues.first().pk],
    "casework:issue_resolve": lambda case: [case.issues.first().pk],
    "casework:appointment_edit": lambda case: [case.appointments.first().pk],
}


class World:
    def __init__(self):
        self.health_org = factories.OrganisationFactory(name="Riverside Surgery")
        self.partnership = factories.PartnershipFactory(health_organisations=[self.health_org])
        advice_org = self.partnership.advice_organisation
        self.referrer = factories.referrer(self.health_org)
        self.advisor = factories.advisor(advice_org)
        self.supervisor = factories.advisor(advice_org, supervisor=True)
        self.manager = factories.partnership_member(self.partnership, "manager")
        self.funder = factories.partnership_member(self.partnership, "funder")
        self.champion = factories.referrer(self.health_org, is_champion=True)
        self.dpo = factories.UserFactory()
        self.dpo.user_permissions.add(
            Permission.objects.get(content_type__app_label="referrals", codename="subject_access")
        )
        self.referral = self._referral(status=ReferralStatus.SUBMITTED)
        self.referral.patient.nhs_number = NHS_NUMBER
        self.referral.patient.save()
        self.referral.consent.outcome_feedback = True  # the referrer's outcome page shows the outcomes
        self.referral.consent.save()
        factories.ClinicBookingFactory(
            session=factories.ClinicSessionFactory(partnership=self.partnership, advisor=self.advisor),
            referral=self.referral,
        )
        self.case = casework_services.referral_accept(referral=self.referral, actor=self.advisor)
        casework_services.case_note_add(
            case=self.case,
            actor=self.advisor,
            kind="call",
            text="First call.",
            occurred_at=timezone.now(),
            first_contact=True,
        )
        factories.WellbeingScoreFactory(case=self.case, moment="start", score=20)  # read with the case
        patient_voice.patient_voice_agreement_record(case=self.case, actor=self.advisor, agreed=True)
        self.grow(1)

    def _referral(self, **fields):
        return factories.ReferralFactory(
            referrer=self.referrer, referring_organisation=self.health_org, partnership=self.partnership, **fields
        )

    def grow(self, n):
        """n more of everything each page lists."""
        day_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        _fill_case(self.case, n)
        for issue in self.case.issues.all()[:n]:
            outcome = factories.FinancialOutcomeFactory(issue=issue)
            OutcomeChange.objects.create(  # the outcomes page lists each outcome's corrections
                case=self.case,
                outcome_kind=OutcomeKind.FINANCIAL,
                outcome_id=outcome.pk,
                action=OutcomeChange.Action.EDITED,
                changes=[{"field": "Regular amount", "old": "£90.00", "new": "£100.00"}],
                reason="Award letter.",
                actor=self.advisor,
                at=timezone.now(),
            )
        for _ in range(n):  # the links sent to the patient, listed on the patient's own link page
            patient_voice.patient_link_send(case=self.case, actor=self.advisor, moment="start", channel="sms")
        clinic = factories.ClinicSessionFactory(partnership=self.partnership, advisor=self.advisor, slot_count=40)
        for _ in range(n):  # the engagement view's teams, each with a referral whose case has closed
            team = factories.TeamFactory(organisation=self.health_org)
            factories.CaseFactory(
                referral=self._referral(status=ReferralStatus.CLOSED, referring_team=team),
                state="closed",
                closed_at=timezone.now(),
                closure_reason="work_completed",
            )
        for i in range(n):
            waiting = self._referral(status=ReferralStatus.SUBMITTED, urgency="urgent" if i % 2 else "routine")
            factories.ClinicBookingFactory(session=clinic, slot=i, referral=waiting, interpreter="bsl")
            case = factories.CaseFactory(
                advisor=self.advisor, referral=self._referral(status=ReferralStatus.IN_PROGRESS)
            )
            factories.CaseIssueFactory(case=case)
            factories.DeadlineFactory(case=case, due_date=timezone.localdate() - timedelta(days=i % 3))
            factories.AppointmentFactory(case=case, starts_at=day_start + timedelta(minutes=20 * i))
            factories.EvidenceRequestFactory(case=case, requested_from=self.referrer)
            factories.EvidenceRequestFactory(
                case=case,
                requested_from=self.referrer,
                state="answered",
                answer_text="Letter",
                answered_at=timezone.now() - timedelta(hours=i),
                answered_by=self.referrer,
            )
            with TestCase.captureOnCommitCallbacks(execute=True):  # delivered to the inbox
                notification_services.message_queue(
                    recipient=self.referrer,
                    kind=MessageKind.OUTCOME_REPORT,
                    key=f"budget-{case.pk}",
                    subject="Outcome of your referral",
                    body="The case has closed.",
                    referral_id=case.referral_id,
                )
            ConsentChange.objects.create(
                consent=self.referral.consent,
                scope="outcome_feedback",
                given=bool(i % 2),
                method="phone",
                said_at=timezone.now(),
                recorded_by=self.advisor,
                recorded_at=timezone.now(),
            )
            audit_record(actor=self.advisor, action=AuditEvent.Action.VIEW, obj=self.case)
        running_figures.refresh_pending()

    def get(self, client, page):
        """A call that opens the page as the client."""
        name, _, variant = page.partition(":")[2].partition(":")
        url_name = f"{page.partition(':')[0]}:{name}"
        args, query = [], {}
        if url_name in REFERRAL_PAGES:
            args = [self.referral.pk]
        elif url_name in CASE_ROW_PAGES:
            args = [self.case.pk, *CASE_ROW_PAGES[url_name](self.case)]
        elif url_name in ("casework:case", "outcomes:case_outcomes", "outcomes:patient_voice") or (
            url_name.startswith("casework:") and url_name.endswith(("_edit", "_add", "reallocate"))
        ):
            args = [self.case.pk]
        elif url_name == "notifications:detail":
            args = [self.referrer.messages.order_by("-pk").first().pk]
        elif url_name == "casework:today_list":
            args = [variant]
        elif url_name == "outcomes:who_looked":
            args = [self.referral.patient_id]
        elif url_name == "casework:caseload" and variant:
            query = {"scope": variant}
        elif url_name in (
            "outcomes:dashboard",
            "outcomes:funder_report",
            "outcomes:funder_report_csv",
            "outcomes:funder_report_pdf",
        ):
            query = PERIOD
        url = reverse(url_name, args=args)
        if variant == "search":
            return lambda: client.post(url, {"nhs_number": NHS_NUMBER})
        return lambda: client.get(url, query)


def _counts(world, client_for):
    counts = {}
    for who, page, _ in PAGES:
        client = client_for(who)
        world.get(client, page)()  # the session's first page may save it (its idle timer): not what is counted
        send = world.get(client, page)  # (finding the page's rows is not what is counted either)
        with CaptureQueriesContext(connection) as captured:
            response = send()
        assert response.status_code == 200, (who, page)
        counts[(who, page)] = len(captured.captured_queries)
    return counts


def test_every_main_page_takes_at_most_ten_queries_whatever_the_rows():
    world = World()
    clients = {}

    def client_for(who):
        if who not in clients:
            clients[who] = Client()
            clients[who].force_login(getattr(world, who))
        return clients[who]

    few = _counts(world, client_for)
    world.grow(25)
    many = _counts(world, client_for)
    assert few == many
    assert few == {(who, page): n for who, page, n in PAGES}
    assert max(few.values()) <= PAGE_QUERY_BUDGET
