"""The referrers' survey of the advice service: answered from an outcome report in the inbox, once per report;
refused to anyone else and after a withdrawal of consent; the results the advice service reads, with the
disclosure rule on the referring organisations' rows and no patient named; pinned query counts."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from hjp.notifications import services as notification_services
from hjp.notifications.models import MessageKind
from outcomes.staff_survey import services
from outcomes.staff_survey.models import StaffSurveyResponse
from referrals.services.consent import consent_withdraw
from tests import factories
from tests.support.pages import looks_missing

pytestmark = pytest.mark.django_db

ANSWER = {"usefulness": "4", "would_refer_again": "yes", "comment": "Quick and clear feedback."}


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """`deliver(referral, kind=...)`: a message about the referral, delivered to its referrer's inbox."""
    counter = iter(range(10_000))

    def send(referral, kind=MessageKind.OUTCOME_REPORT, recipient=None):
        with django_capture_on_commit_callbacks(execute=True):
            message = notification_services.message_queue(
                recipient=recipient or referral.referrer,
                kind=kind,
                key=f"survey-test:{next(counter)}",
                subject=f"Outcome of referral {referral.reference}",
                body="The case has closed.",
                url=reverse("referrals:detail", args=[referral.pk]),
                referral_id=referral.pk,
            )
        message.refresh_from_db()
        return message

    return send


@pytest.fixture
def report(deliver, referral):
    return deliver(referral)


def test_the_referrer_rates_the_service_from_the_outcome_report_in_their_inbox(
    as_user, referrer_user, referral, report, health_org, partnership
):
    client = as_user(referrer_user)
    message_page = client.get(reverse("notifications:detail", args=[report.pk])).content.decode()
    survey_url = reverse("outcomes:staff_survey", args=[report.pk])
    assert "Rate the service" in message_page and survey_url in message_page
    assert client.get(survey_url).status_code == 200
    response = client.post(survey_url, ANSWER, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("notifications:detail", args=[report.pk])
    assert "Thank you: your answer is received." in html
    assert "You rated the service after this outcome report" in html and survey_url not in html
    answer = StaffSurveyResponse.objects.get()
    assert (answer.usefulness, answer.would_refer_again, answer.comment) == (4, "yes", "Quick and clear feedback.")
    assert (answer.partnership, answer.referring_organisation) == (partnership, health_org)
    audit = AuditEvent.objects.get(object_type="outcomes.staffsurveyresponse", action=AuditEvent.Action.CREATE)
    assert audit.actor == referrer_user


def test_a_second_answer_about_the_same_report_has_been_received_already(as_user, referrer_user, report):
    client = as_user(referrer_user)
    url = reverse("outcomes:staff_survey", args=[report.pk])
    client.post(url, ANSWER)
    again = client.post(url, ANSWER | {"usefulness": "1"}, follow=True).content.decode()
    assert "has been received already" in again
    assert "has been received already" in client.get(url).content.decode()
    assert StaffSurveyResponse.objects.get().usefulness == 4
    with pytest.raises(DomainError, match="received already"):
        services.staff_survey_answer(outcome_report=report, actor=referrer_user, usefulness=2, would_refer_again="no")


def test_the_database_holds_one_answer_per_outcome_report(report, referral, health_org, partnership):
    fields = {
        "outcome_report": report,
        "partnership": partnership,
        "referring_organisation": health_org,
        "would_refer_again": "yes",
    }
    StaffSurveyResponse.objects.create(usefulness=3, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffSurveyResponse.objects.create(usefulness=5, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffSurveyResponse.objects.filter(outcome_report=report).update(usefulness=9)


def test_bad_input_is_told_plainly_and_the_comment_kept(as_user, referrer_user, report):
    client = as_user(referrer_user)
    url = reverse("outcomes:staff_survey", args=[report.pk])
    response = client.post(url, {"usefulness": "", "would_refer_again": "", "comment": "My words stay."})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose how useful the advice service was, from 1 to 5" in html
    assert "Choose whether you would refer again" in html
    assert "My words stay." in html
    response = client.post(url, ANSWER | {"usefulness": "9", "comment": "x" * 1001})
    assert response.status_code == 400
    assert "1000 characters" in response.content.decode()
    assert not StaffSurveyResponse.objects.exists()


def test_nobody_else_answers_and_other_messages_have_no_survey(
    client, deliver, referral, report, advisor_user, health_org
):
    url = reverse("outcomes:staff_survey", args=[report.pk])
    for user in (factories.referrer(health_org), factories.referrer(), advisor_user):
        client.force_login(user)
        assert looks_missing(client.get(url))
        assert looks_missing(client.post(url, ANSWER))
    notice = deliver(referral, kind=MessageKind.STATUS_NOTICE)
    client.force_login(referral.referrer)
    assert looks_missing(client.get(reverse("outcomes:staff_survey", args=[notice.pk])))
    assert "Rate the service" not in client.get(reverse("notifications:detail", args=[notice.pk])).content.decode()
    assert not StaffSurveyResponse.objects.exists()


def test_after_a_withdrawal_of_consent_no_answer_is_taken_and_the_comments_go(as_user, referrer_user, referral, report):
    client = as_user(referrer_user)
    client.post(reverse("outcomes:staff_survey", args=[report.pk]), ANSWER)
    consent_withdraw(referral=referral, actor=referrer_user)
    answer = StaffSurveyResponse.objects.get()
    assert answer.comment == "" and answer.usefulness == 4  # the rating stays for the results
    report.refresh_from_db()
    assert looks_missing(client.get(reverse("outcomes:staff_survey", args=[report.pk])))
    with pytest.raises(DomainError):
        services.staff_survey_answer(outcome_report=report, actor=referrer_user, usefulness=2, would_refer_again="no")


def _answers(partnership, organisation, count, *, usefulness=4, comment=""):
    for _ in range(count):
        referral = factories.ReferralFactory(partnership=partnership, referring_organisation=organisation)
        message = notification_services.message_queue(
            recipient=referral.referrer,
            kind=MessageKind.OUTCOME_REPORT,
            key=f"survey-results:{referral.pk}",
            subject="Outcome",
            body="Closed.",
            referral_id=referral.pk,
        )
        StaffSurveyResponse.objects.create(
            outcome_report=message,
            partnership=partnership,
            referring_organisation=organisation,
            usefulness=usefulness,
            would_refer_again="yes",
            comment=comment,
        )


def test_the_advice_service_reads_the_results_without_patient_details(
    as_user, advisor_user, supervisor_user, manager_user, referral, report, referrer_user, health_org, partnership
):
    as_user(referrer_user).post(reverse("outcomes:staff_survey", args=[report.pk]), ANSWER)
    big = factories.OrganisationFactory(name="Big Health Centre")
    partnership.health_organisations.add(big)
    _answers(partnership, big, 11, usefulness=2)
    for user in (advisor_user, supervisor_user, manager_user):
        response = as_user(user).get(reverse("outcomes:staff_survey_results"))
        html = response.content.decode()
        results = response.context["results"]
        assert results.answers == 12
        assert str(results.average) == "2.2"  # (4 + 11 x 2) / 12
        assert "Quick and clear feedback." in html
        assert referral.reference not in html and referral.patient.family_name not in html
        assert referrer_user.full_name not in html
        rows = {row.name: row for row in results.organisations}
        assert rows["Riverside Surgery"].answers == "fewer than 10" and rows["Riverside Surgery"].average is None
        assert rows["Big Health Centre"].answers == "10" and str(rows["Big Health Centre"].average) == "2.0"
        assert "Disclosure control" in html
    assert AuditEvent.objects.filter(
        object_type="outcomes.staffsurveyresponse", action=AuditEvent.Action.LIST, actor=advisor_user
    ).exists()


def test_another_service_a_funder_and_a_referrer_do_not_read_the_results(
    client, partnership, funder_user, referrer_user
):
    other = factories.PartnershipFactory()
    other_advisor = factories.advisor(other.advice_organisation)
    url = reverse("outcomes:staff_survey_results")
    for user in (funder_user, referrer_user):
        client.force_login(user)
        assert looks_missing(client.get(url))
    client.force_login(other_advisor)
    assert client.get(url).context["partnership"] == other
    assert looks_missing(client.get(url, {"partnership": partnership.pk}))
    assert looks_missing(client.get(url, {"partnership": "not a number"}))


# The three every page spends; the partnerships the user reads; the totals, the organisations' rows and the
# comments (three aggregates); the audit entry.
RESULTS_QUERIES = 8
# The three; the outcome report with whether it was answered.
SURVEY_QUERIES = 4
# The three; the message; its patient label; marking it read (an update in a savepoint: three); the audit entry;
# the survey's follow-up (whether this report was answered); the unread count, read again after the marking.
MESSAGE_QUERIES = 11


@pytest.mark.parametrize("rows", [1, 25])
def test_query_counts_are_pinned_with_few_and_many_rows(
    as_user,
    advisor_user,
    manager_user,
    referrer_user,
    partnership,
    health_org,
    report,
    rows,
    django_assert_num_queries,
):
    _answers(partnership, health_org, rows, comment="Helpful.")
    for user in (advisor_user, manager_user):
        client = as_user(user)
        with django_assert_num_queries(RESULTS_QUERIES):
            assert client.get(reverse("outcomes:staff_survey_results")).status_code == 200
    client = as_user(referrer_user)
    with django_assert_num_queries(SURVEY_QUERIES):
        assert client.get(reverse("outcomes:staff_survey", args=[report.pk])).status_code == 200
    with django_assert_num_queries(MESSAGE_QUERIES):
        assert client.get(reverse("notifications:detail", args=[report.pk])).status_code == 200
