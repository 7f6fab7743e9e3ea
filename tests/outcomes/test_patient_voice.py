"""The patient's own voice: the link sent with the patient's agreement (email, or a text message through a fake
GOV.UK Notify), used once, expiring, refused after consent withdrawal; the pages without JavaScript, in Welsh."""

import re
import smtplib
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import close_old_connections, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from hjp.audit.models import AuditEvent
from hjp.core.errors import DomainError
from outcomes import disclosure, patient_voice, running_figures
from outcomes.models import ExperienceSurvey, PatientLink, WellbeingScore
from outcomes.report import funder_report_rows
from outcomes.selectors.dashboard import partnership_summary
from outcomes.selectors.figures import Period
from outcomes.services import wellbeing_record
from referrals.services import consent_withdraw
from tests import factories
from tests.outcomes.raw_figures import raw_partnership_summary
from tests.support.fake_notify import API_KEY, FakeNotify
from tests.support.snapshots import assert_matches_snapshot

ANSWERS = {f"item_{i}": "4" for i in range(1, 8)}
CLOSE_ANSWERS = ANSWERS | {"easy_to_get_help": "yes", "made_a_difference": "partly", "comments": "Thank you, Sam."}


@pytest.fixture
def case(db):
    return factories.CaseFactory(
        referral__patient__given_name="Megan",
        referral__patient__family_name="Pritchard-Voice",
        referral__patient__email="megan@example.org",
        referral__patient__phone="07700 900456",
    )


def agreed(case):
    patient_voice.patient_voice_agreement_record(case=case, actor=case.advisor, agreed=True)
    return case


def send(case, *, moment="start", channel="email", callbacks=None):
    """Send a link as the advisor does, with its on-commit task run, and return the link and its token (read
    from the message the patient got)."""
    link = patient_voice.patient_link_send(case=case, actor=case.advisor, moment=moment, channel=channel)
    return link, patient_voice.link_token(link.nonce)


@pytest.fixture
def email_link(case, django_capture_on_commit_callbacks):
    agreed(case)
    with django_capture_on_commit_callbacks(execute=True):
        link, _ = send(case)
    token = re.search(r"/p/([A-Za-z0-9_-]{43})/", mail.outbox[-1].body).group(1)
    return link, token


# --- services ----------------------------------------------------------------------------------------------


def test_a_link_needs_the_patients_recorded_agreement(case):
    with pytest.raises(DomainError, match="agreed"):
        send(case)
    patient_voice.patient_voice_agreement_record(case=case, actor=case.advisor, agreed=False)
    with pytest.raises(DomainError, match="agreed"):
        send(case)
    assert not PatientLink.objects.exists()


def test_only_the_advice_service_can_record_the_agreement(case):
    stranger = factories.advisor()
    with pytest.raises(DomainError):
        patient_voice.patient_voice_agreement_record(case=case, actor=stranger, agreed=True)


def test_the_email_carries_the_link_and_only_its_hash_is_stored(email_link, case):
    link, token = email_link
    email = mail.outbox[-1]
    assert email.to == ["megan@example.org"]
    assert "Hello Megan" in email.body and "Pritchard-Voice" not in email.body
    link.refresh_from_db()
    assert link.send_status == PatientLink.SendStatus.SENT and link.send_attempts == 1
    assert token not in str(PatientLink.objects.filter(pk=link.pk).values().get())
    assert link.token_hash == patient_voice.token_hash(token)
    sent = AuditEvent.objects.get(object_type="outcomes.patientlink", action=AuditEvent.Action.CREATE)
    assert sent.actor == case.advisor and sent.referral_ref == case.referral_id


def test_the_send_task_is_idempotent(email_link):
    link, _ = email_link
    assert patient_voice.patient_link_deliver(link_id=link.pk) is False
    assert len(mail.outbox) == 1


def test_the_link_works_once_and_records_a_self_reported_score(email_link, case):
    _, token = email_link
    assert patient_voice.patient_link_open(token=token).first_name == "Megan"
    patient_voice.patient_link_submit(token=token, items=[4] * 7)
    score = WellbeingScore.objects.get(case=case, moment="start")
    assert score.self_reported and score.recorded_by is None and score.total == 28
    with pytest.raises(patient_voice.LinkRefused) as refused:
        patient_voice.patient_link_submit(token=token, items=[1] * 7)
    assert refused.value.state == patient_voice.LinkState.USED
    assert WellbeingScore.objects.get(case=case, moment="start").total == 28
    answered = AuditEvent.objects.get(object_type="outcomes.patientlink", action=AuditEvent.Action.UPDATE)
    assert answered.actor is None and f"link {email_link[0].pk}" in answered.summary


def test_the_patients_own_score_wins_over_the_advisors(email_link, case):
    _, token = email_link
    wellbeing_record(case=case, actor=case.advisor, moment="start", items=[2] * 7)
    patient_voice.patient_link_submit(token=token, items=[3] * 7)
    score = WellbeingScore.objects.get(case=case, moment="start")
    assert score.total == 21 and score.self_reported
    with pytest.raises(DomainError, match="themselves"):
        wellbeing_record(case=case, actor=case.advisor, moment="start", items=[5] * 7)


def test_the_link_expires(email_link, settings):
    link, token = email_link
    assert settings.PATIENT_LINK_DAYS == 14
    assert link.expires_at - link.created_at == pytest.approx(timedelta(days=14), abs=timedelta(seconds=5))
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert patient_voice.patient_link_open(token=token).state == patient_voice.LinkState.EXPIRED
    with pytest.raises(patient_voice.LinkRefused):
        patient_voice.patient_link_submit(token=token, items=[4] * 7)


def test_withdrawal_refuses_the_link_and_stops_a_send(case, django_capture_on_commit_callbacks):
    agreed(case)
    link, token = send(case)  # its task not run: still pending when consent is withdrawn
    consent_withdraw(referral=case.referral, actor=case.advisor)
    opened = patient_voice.patient_link_open(token=token)
    assert opened.state == patient_voice.LinkState.WITHDRAWN and opened.first_name == ""
    assert patient_voice.patient_link_deliver(link_id=link.pk) is False
    link.refresh_from_db()
    assert link.send_status == PatientLink.SendStatus.CANCELLED and not mail.outbox
    with pytest.raises(DomainError, match="withdrew"):
        send(case)


def test_withdrawal_erases_the_patients_free_text(email_link, case):
    link, token = email_link
    PatientLink.objects.filter(pk=link.pk).update(moment="close")
    patient_voice.patient_link_submit(
        token=token, items=[4] * 7, easy_to_get_help="yes", made_a_difference="yes", comments="Megan's story"
    )
    consent_withdraw(referral=case.referral, actor=case.advisor)
    survey = ExperienceSurvey.objects.get(case=case)
    assert survey.comments == "" and survey.easy_to_get_help == "yes"


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_record_one(problem_categories):
    case = factories.CaseFactory(referral__patient__email="a@example.org")
    agreed(case)
    link, token = send(case)
    barrier, results = threading.Barrier(2), []

    def submit(value):
        try:
            barrier.wait()
            patient_voice.patient_link_submit(token=token, items=[value] * 7)
            results.append("recorded")
        except patient_voice.LinkRefused as refused:
            results.append(refused.state)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=submit, args=(value,)) for value in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["recorded", "used"]
    assert WellbeingScore.objects.filter(case=case).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_links_of_one_case_answered_at_once_both_record_the_second_replacing_the_first(problem_categories):
    """Two links for the start (the first thought lost, sent again), both answered at the same moment: they queue
    on the referral, so neither meets the other's half-written score (no error page); one score remains, the
    patient's own."""
    case = factories.CaseFactory(referral__patient__email="a@example.org")
    agreed(case)
    tokens = [send(case)[1], send(case)[1]]
    barrier, results = threading.Barrier(2), []

    def submit(token, value):
        try:
            barrier.wait()
            patient_voice.patient_link_submit(token=token, items=[value] * 7)
            results.append("recorded")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=submit, args=args) for args in zip(tokens, (2, 5), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["recorded", "recorded"]
    [score] = WellbeingScore.objects.filter(case=case)
    assert score.self_reported and score.total in (14, 35)


@pytest.mark.django_db(transaction=True)
def test_answers_sent_while_consent_is_being_withdrawn_are_refused_not_kept(problem_categories):
    """The withdrawal has erased but not yet committed when the patient presses Send: the answers wait for it
    and are then refused, so no free text outlives the withdrawal."""
    case = factories.CaseFactory(referral__patient__email="a@example.org")
    agreed(case)
    link, token = send(case, moment="close")
    erased, results = threading.Event(), []

    def withdraw():
        try:
            with transaction.atomic():
                consent_withdraw(referral=case.referral, actor=case.advisor)
                erased.set()
                time.sleep(0.5)  # the patient's answers arrive now, before this commits
        finally:
            close_old_connections()

    def submit():
        try:
            erased.wait()
            patient_voice.patient_link_submit(
                token=token, items=[4] * 7, easy_to_get_help="yes", made_a_difference="no", comments="My address"
            )
            results.append("recorded")
        except patient_voice.LinkRefused as refused:
            results.append(refused.state)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=withdraw), threading.Thread(target=submit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["withdrawn"]
    assert not ExperienceSurvey.objects.filter(case=case).exists()


def test_a_refused_address_is_not_kept_in_the_reason_and_erasure_blanks_any_reason(email_link, case):
    refused = smtplib.SMTPRecipientsRefused({"megan@example.org": (550, b"No such user megan@example.org")})
    assert "megan" not in patient_voice._failure_reason(refused)
    assert patient_voice._failure_reason(refused) == "SMTPRecipientsRefused"
    link, _ = email_link
    PatientLink.objects.filter(pk=link.pk).update(last_error="an older reason naming megan@example.org")
    consent_withdraw(referral=case.referral, actor=case.advisor)
    link.refresh_from_db()
    assert link.last_error == ""


# --- text messages through GOV.UK Notify --------------------------------------------------------------------


def test_the_text_message_goes_through_notify_with_the_templates_personalisation(
    case, settings, django_capture_on_commit_callbacks
):
    agreed(case)
    with FakeNotify() as notify:
        settings.NOTIFY_API_KEY, settings.NOTIFY_BASE_URL = API_KEY, notify.url
        settings.NOTIFY_SMS_TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
        with django_capture_on_commit_callbacks(execute=True):
            link, token = send(case, channel="sms")
    assert notify.refused == []
    [sent] = notify.requests
    assert sent["path"] == "/v2/notifications/sms"
    assert sent["json"]["phone_number"] == "07700 900456"
    assert sent["json"]["template_id"] == "f33517ff-2a88-4f6e-b855-c550268ce08a"
    assert sent["json"]["reference"] == f"patient-link-{link.pk}"
    personalisation = sent["json"]["personalisation"]
    assert personalisation["first_name"] == "Megan"
    assert personalisation["link"] == f"{settings.SITE_URL}/p/{token}/"
    assert personalisation["expiry_date"] == timezone.localtime(link.expires_at).strftime("%d/%m/%Y")
    assert "Pritchard" not in str(sent["json"])
    link.refresh_from_db()
    assert link.send_status == PatientLink.SendStatus.SENT


def test_a_notify_failure_is_recorded_for_a_retry(case, settings):
    agreed(case)
    with FakeNotify(fail_with=500) as notify:
        settings.NOTIFY_API_KEY, settings.NOTIFY_BASE_URL = API_KEY, notify.url
        link, _ = send(case, channel="sms")
        with pytest.raises(patient_voice.LinkSendFailed):
            patient_voice.patient_link_deliver(link_id=link.pk)
    link.refresh_from_db()
    assert link.send_status == PatientLink.SendStatus.FAILED and link.send_attempts == 1 and link.last_error


def test_a_wrong_api_key_is_refused_by_notify(case, settings):
    agreed(case)
    with FakeNotify() as notify:
        settings.NOTIFY_API_KEY = API_KEY[:-36] + "00000000-0000-0000-0000-000000000000"
        settings.NOTIFY_BASE_URL = notify.url
        link, _ = send(case, channel="sms")
        with pytest.raises(patient_voice.LinkSendFailed):
            patient_voice.patient_link_deliver(link_id=link.pk)
    assert notify.requests == [] and notify.refused


# --- the patient's pages (no JavaScript: plain form posts) ----------------------------------------------------


def test_the_page_shows_only_the_first_name_and_records_the_answers(client, email_link, case):
    link, token = email_link
    PatientLink.objects.filter(pk=link.pk).update(moment="close")
    url = reverse("patient_link", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Hello Megan" in html and "Pritchard-Voice" not in html and case.reference not in html
    assert "Was it easy to get help?" in html and "<script" not in html
    assert page["Referrer-Policy"] == "same-origin"  # the link's token goes to no other site
    response = client.post(url, CLOSE_ANSWERS)
    assert response.status_code == 302 and response["Location"].startswith(reverse("patient_link_thanks"))
    assert "Thank you" in client.get(response["Location"]).content.decode()
    survey = ExperienceSurvey.objects.get(case=case)
    assert (survey.easy_to_get_help, survey.made_a_difference, survey.comments) == ("yes", "partly", "Thank you, Sam.")
    again = client.get(url)
    assert again.status_code == 410 and "You have already answered" in again.content.decode()
    assert "Megan" not in again.content.decode()


def test_a_missing_answer_is_explained_and_what_was_chosen_is_kept(client, email_link):
    _, token = email_link
    url = reverse("patient_link", args=[token])
    response = client.post(url, {k: v for k, v in ANSWERS.items() if k != "item_3"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in html and 'href="#id_item_3_0"' in html
    assert "Choose how often you have felt this" in html
    assert html.count("checked") == 6
    assert not WellbeingScore.objects.exists()


def test_unknown_expired_and_withdrawn_links_get_a_clear_page(client, email_link, case):
    link, token = email_link
    unknown = client.get(reverse("patient_link", args=["x" * 43]))
    assert unknown.status_code == 404 and "Check that you copied the whole link" in unknown.content.decode()
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    expired = client.post(reverse("patient_link", args=[token]), ANSWERS)
    assert expired.status_code == 410 and "This link has expired" in expired.content.decode()
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() + timedelta(days=1))
    consent_withdraw(referral=case.referral, actor=case.advisor)
    withdrawn = client.get(reverse("patient_link", args=[token]))
    assert withdrawn.status_code == 410 and "no longer works" in withdrawn.content.decode()
    assert "Megan" not in withdrawn.content.decode()


def test_the_pages_speak_welsh_for_a_patient_who_prefers_it(client, case, django_capture_on_commit_callbacks):
    case.referral.patient.language = "Welsh"
    case.referral.patient.save()
    agreed(case)
    with django_capture_on_commit_callbacks(execute=True):
        link, token = send(case)
    assert link.language == "cy"
    assert "Helo Megan" in mail.outbox[-1].body
    url = reverse("patient_link", args=[token])
    html = client.get(url).content.decode()
    assert '<html lang="cy">' in html and "Helo Megan" in html
    assert "Rydw i wedi bod yn meddwl yn glir" in html and "Anfon fy atebion" in html
    assert 'href="?lang=en-gb"' in html  # the switch to English
    english = client.get(url + "?lang=en-gb").content.decode()
    assert '<html lang="en-GB">' in english and "Hello Megan" in english
    response = client.post(url, ANSWERS | {"lang": "cy"})
    assert response["Location"].endswith("?lang=cy")
    assert "Diolch" in client.get(response["Location"]).content.decode()


# --- the advisor's page -----------------------------------------------------------------------------------------


def test_the_advisor_records_the_agreement_and_sends_a_link(as_user, case, django_capture_on_commit_callbacks):
    client = as_user(case.advisor)
    url = reverse("outcomes:patient_voice", args=[case.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Send the link" not in page.content.decode()
    client.post(reverse("outcomes:patient_voice_agreement", args=[case.pk]), {"agreement-agreed": "yes"})
    page = client.get(url).content.decode()
    token = re.search(r'name="send-submission_token" value="([^"]+)"', page).group(1)
    data = {"send-moment": "start", "send-channel": "email", "send-submission_token": token}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("outcomes:patient_link_send", args=[case.pk]), data)
        second = client.post(reverse("outcomes:patient_link_send", args=[case.pk]), data)  # a double click
    assert first.status_code == second.status_code == 302
    assert PatientLink.objects.filter(case=case).count() == 1 and len(mail.outbox) == 1
    assert "Sending: Sent." in client.get(url).content.decode()


def test_sending_without_an_address_says_what_to_do(as_user, case):
    agreed(case)
    case.referral.patient.email = ""
    case.referral.patient.save()
    client = as_user(case.advisor)
    response = client.post(
        reverse("outcomes:patient_link_send", args=[case.pk]),
        {
            "send-moment": "start",
            "send-channel": "email",
            "send-submission_token": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        },
    )
    assert response.status_code == 400 and "no email address" in response.content.decode()
    assert not PatientLink.objects.exists()


# --- the dashboard and the funder report ----------------------------------------------------------------------

FUNDER_WELLBEING = "Wellbeing in the patients' own answers (SWEMWBS, cases closed in the period)"
FUNDER_EXPERIENCE = "The patients' experience survey (cases closed in the period)"
QUARTER = Period(start=date(2026, 1, 1), end=date(2026, 3, 31))


def closed_case(referral):
    return factories.CaseFactory(
        referral=referral,
        state="closed",
        closure_reason="work_completed",
        opened_at=datetime(2026, 1, 12, 12, tzinfo=UTC),
        first_contact_at=datetime(2026, 1, 13, 12, tzinfo=UTC),
        closed_at=datetime(2026, 2, 20, 12, tzinfo=UTC),
    )


def closed_cases_with_own_answers(partnership, n, *, easy="yes"):
    """n cases closed in February 2026, each with the patient's own scores (14 then 21) and survey."""
    for _ in range(n):
        referral = factories.ReferralFactory(
            partnership=partnership,
            referring_organisation=partnership.health_organisations.first(),
            status="closed",
            submitted_at=datetime(2026, 1, 10, 12, tzinfo=UTC),
        )
        case = closed_case(referral)
        for moment, score in (("start", 14), ("close", 21)):
            factories.WellbeingScoreFactory(case=case, moment=moment, score=score, self_reported=True, recorded_by=None)
        ExperienceSurvey.objects.create(case=case, easy_to_get_help=easy, made_a_difference="partly")
    running_figures.refresh_pending()


@pytest.fixture
def partnership(db):
    return factories.PartnershipFactory(health_organisations=[factories.OrganisationFactory()])


def test_a_few_own_answers_are_exact_for_managers_and_withheld_for_funders(partnership):
    closed_cases_with_own_answers(partnership, 3)
    # An advisor's scores count in the existing wellbeing figure, not in the patients' own.
    advisor_scored = closed_case(factories.ReferralFactory(partnership=partnership, status="closed"))
    factories.WellbeingScoreFactory(case=advisor_scored, moment="start", score=10)
    factories.WellbeingScoreFactory(case=advisor_scored, moment="close", score=12)
    running_figures.refresh_pending()
    summary = partnership_summary(partnership=partnership, period=QUARTER)
    own = summary.patient_reported
    assert summary.wellbeing.cases == 4
    assert (own.wellbeing.cases, own.wellbeing.average_change) == (3, Decimal("7.0"))
    assert [(row.question, row.answers) for row in own.experience] == [
        ("Was it easy to get help?", (("Yes", 3), ("Partly", 0), ("No", 0))),
        ("Did the help make a difference?", (("Yes", 0), ("Partly", 3), ("No", 0))),
    ]
    rows = {(row.section, row.measure): row.display for row in funder_report_rows(summary)}
    assert rows[(FUNDER_WELLBEING, "Cases with both of the patient's own scores")] == "fewer than 10"
    assert rows[(FUNDER_WELLBEING, "Average change in the patient's own score")] == disclosure.NOT_SHOWN
    assert rows[(FUNDER_EXPERIENCE, "Was it easy to get help? Yes")] == "fewer than 10"
    assert rows[(FUNDER_EXPERIENCE, "Was it easy to get help? Yes: share")] == disclosure.NOT_SHOWN


def test_enough_own_answers_are_published_rounded_with_shares_from_the_rounded_counts(partnership):
    closed_cases_with_own_answers(partnership, 12)
    closed_cases_with_own_answers(partnership, 11, easy="no")
    summary = partnership_summary(partnership=partnership, period=QUARTER)
    assert summary == raw_partnership_summary(partnership=partnership, period=QUARTER)
    rows = {(row.section, row.measure): row.display for row in funder_report_rows(summary)}
    assert rows[(FUNDER_WELLBEING, "Cases with both of the patient's own scores")] == "25"  # 23
    assert rows[(FUNDER_WELLBEING, "Average change in the patient's own score")] == "+7.0"
    assert rows[(FUNDER_EXPERIENCE, "Was it easy to get help? Answered")] == "25"  # 23
    assert rows[(FUNDER_EXPERIENCE, "Was it easy to get help? Yes")] == "10"  # 12
    assert rows[(FUNDER_EXPERIENCE, "Was it easy to get help? No")] == "10"  # 11
    assert rows[(FUNDER_EXPERIENCE, "Was it easy to get help? Yes: share")] == "40%"  # the published 10 of 25
    assert rows[(FUNDER_EXPERIENCE, "Was it easy to get help? Partly")] == "fewer than 10"


def test_the_managers_dashboard_shows_the_patients_own_words(as_user, partnership):
    closed_cases_with_own_answers(partnership, 3)
    manager = factories.partnership_member(partnership, "manager")
    html = as_user(manager).get(reverse("outcomes:dashboard"), {"period": "quarter-2025-4"}).content.decode()
    assert "In patients' own words" in html
    assert re.search(r"both of the patient's own scores</th><td class=\"text-end\">3</td>", html)
    assert re.search(r"Was it easy to get help\?</th><td class=\"text-end\">3</td>", html)


# --- the wording of the email, reviewed ---------------------------------------------------------------------


@pytest.mark.parametrize(("language", "name"), [("English", "patient_link_email"), ("Welsh", "patient_link_email_cy")])
def test_the_link_email_wording(case, settings, django_capture_on_commit_callbacks, language, name):
    settings.SITE_URL = "https://hjp.example.test"
    case.referral.patient.language = language
    case.referral.patient.save()
    case.referral.advice_organisation.name = "Riverside Advice"
    case.referral.advice_organisation.save()
    agreed(case)
    with django_capture_on_commit_callbacks(execute=True):
        link, token = send(case)
    [email] = mail.outbox
    expires = timezone.localtime(link.expires_at)
    with translation.override(link.language):  # the token and the date change with every run
        body = email.body.replace(token, "<token>").replace(date_format(expires, "j F Y"), "<expiry date>")
    assert_matches_snapshot(f"Subject: {email.subject}\n\n{body}", name)
