"""The retention period: what outlived its partnership's period is anonymised by the same erasure path as a
withdrawal of consent, batch by batch, once, with a dry run beforehand and an audit entry per run."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from casework import services as casework_services
from casework.models import CaseState, ClosureReason
from hjp.audit.models import AuditEvent
from hjp.core.redaction import ErasureReason
from hjp.notifications.models import Delivery, Message, MessageKind
from outcomes.selectors.figures import Period
from referrals import services
from referrals.models import Patient, ReferralStatus
from referrals.services.retention import anonymise_expired_records, retention_cutoff, retention_preview
from referrals.tasks import anonymise_expired_records as anonymise_task
from tests import factories
from tests.outcomes.raw_figures import cases_closed, money_totals, referral_totals, referrals_received
from tests.referrals.erasure_world import leftovers_in_models, leftovers_in_tables, leftovers_on_disk, patient_history

pytestmark = pytest.mark.django_db

S = ReferralStatus
YEAR = timedelta(days=365)


@pytest.fixture
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private_media"
    return settings.PRIVATE_MEDIA_ROOT


def later(years: float):
    """Travel `years` on, the clock still running."""
    return time_machine.travel(timezone.now() + years * YEAR, tick=True)


def closed_case(partnership, **case):
    """A case closed now, with a note and an open deadline left behind, on a closed referral."""
    referral = factories.ReferralFactory(partnership=partnership, status=S.CLOSED, patient__sex="male")
    factories.ReferralStatusChangeFactory(
        referral=referral, from_status=S.IN_PROGRESS, to_status=S.CLOSED, actor=referral.referrer, at=timezone.now()
    )
    made = factories.CaseFactory(
        referral=referral,
        state=CaseState.CLOSED,
        closed_at=timezone.now(),
        closure_reason=ClosureReason.WORK_COMPLETED,
        **case,
    )
    factories.CaseNoteFactory(case=made, text=f"About {referral.patient.family_name}")
    factories.DeadlineFactory(case=made, title=f"Ring {referral.patient.family_name}")
    factories.FinancialOutcomeFactory(issue=factories.CaseIssueFactory(case=made))
    a_message_about(referral, key=f"closed:{referral.pk}")
    return made


def finished_without_case(partnership, status):
    referral = factories.ReferralFactory(partnership=partnership, status=status, description="About her rent")
    factories.ReferralStatusChangeFactory(
        referral=referral, to_status=status, actor=referral.referrer, at=timezone.now(), reason="Wrong service"
    )
    return referral


def test_after_the_retention_period_no_table_and_no_file_holds_anything_entered_about_the_patient(
    private_media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        history = patient_history(private_media)
    case = history.case
    case.refresh_from_db()
    casework_services.case_close(
        case=case, actor=case.advisor, version=case.version, closure_reason=ClosureReason.WORK_COMPLETED
    )
    assert leftovers_in_models() and leftovers_in_tables() and leftovers_on_disk(private_media)

    with later(6.1), django_capture_on_commit_callbacks(execute=True):
        anonymise_expired_records()

    assert leftovers_in_models() == []
    assert leftovers_in_tables() == []
    assert leftovers_on_disk(private_media) == [] and not history.document.exists()
    patient = Patient.objects.get(referral=history.referral)
    assert patient.redaction_reason == ErasureReason.RETENTION and patient.deprivation_decile == 2


def test_only_what_finished_longer_ago_than_its_partnerships_period_is_anonymised_and_only_once(partnership):
    keeps_ten_years = factories.PartnershipFactory(retention_years=10)
    expired_case = closed_case(partnership)
    declined = finished_without_case(partnership, S.DECLINED)
    redirected = finished_without_case(partnership, S.REDIRECTED)
    in_error = finished_without_case(partnership, S.ENTERED_IN_ERROR)
    open_referral = factories.ReferralFactory(partnership=partnership, status=S.SUBMITTED)
    longer_kept = closed_case(keeps_ten_years)
    withdrawn = factories.ReferralFactory(partnership=partnership, status=S.SUBMITTED)
    services.consent_withdraw(referral=withdrawn, actor=withdrawn.referrer)
    with later(5):
        recent = closed_case(partnership)

    with later(6.1):
        preview = {row.partnership: row for row in retention_preview()}
        assert preview[partnership].count == 4 and preview[keeps_ten_years].count == 0
        expected = {expired_case.referral.reference, declined.reference, redirected.reference, in_error.reference}
        assert set(preview[partnership].references) == expected
        assert not Patient.objects.filter(redaction_reason=ErasureReason.RETENTION).exists()  # a dry run

        counts = anonymise_expired_records(batch_size=3)  # two batches
        again = anonymise_expired_records()

    assert counts == {partnership.pk: 4, keeps_ten_years.pk: 0} and again == {partnership.pk: 0, keeps_ten_years.pk: 0}
    anonymised = Patient.objects.filter(redaction_reason=ErasureReason.RETENTION)
    assert set(anonymised.values_list("referral__reference", flat=True)) == expected
    kept = [open_referral, longer_kept.referral, recent.referral]
    assert all(Patient.objects.get(referral=r).family_name for r in kept)
    assert Patient.objects.get(referral=withdrawn).redaction_reason == ErasureReason.CONSENT_WITHDRAWN
    expired_case.refresh_from_db()
    assert expired_case.notes.get().text == "[removed after the retention period]"
    assert expired_case.deadlines.get().settlement == "closed_with_case"  # by the case's advisor
    assert expired_case.deadlines.get().done_by == expired_case.advisor
    declined.refresh_from_db()
    assert declined.description == "[removed after the retention period]"
    assert set(declined.status_changes.values_list("reason", flat=True)) == {"[removed after the retention period]"}
    runs = AuditEvent.objects.filter(summary__startswith="retention run").order_by("id")
    assert [r.summary for r in runs] == [
        f"retention run: 4 referral(s) anonymised (partnership {partnership.pk}: 4)",
        "retention run: 0 referral(s) anonymised (none)",
    ]
    assert {r.actor for r in runs} == {None} and {r.action for r in runs} == {AuditEvent.Action.REDACT}


def test_reports_count_anonymised_referrals_as_before(partnership):
    for _ in range(3):
        closed_case(partnership)
    finished_without_case(partnership, S.DECLINED)
    period = Period(start=timezone.localdate() - timedelta(days=30), end=timezone.localdate())

    def figures():
        return (
            referral_totals(referrals_received(period=period, partnership=partnership)),
            money_totals(cases_closed(period=period, partnership=partnership)),
        )

    before = figures()
    with later(6.1):
        assert sum(anonymise_expired_records().values()) == 4
    assert figures() == before and before[0].received == 4


def _run_queries(django_assert_num_queries, partnership, n: int) -> int:
    for _ in range(n):
        closed_case(partnership)
    with later(6.1), django_assert_num_queries(QUERIES_PER_RUN_OF_ONE_BATCH):
        counts = anonymise_expired_records(batch_size=50)
    return counts[partnership.pk]


# Per run: the partnerships; per batch: lock the batch, then the erasers' fixed set of updates (one per table and
# kind of text, whatever the batch size: 9 of them for what the corrections added, the reasons for records marked
# entered in error and for corrections, and the changes of consent; with the read of the corrections of outcome
# notes, whose old and new text is rewritten in one more query when there are any; the conversation: the read of
# its documents and the update of its text; one for the clinic bookings, cancelled and their interpreter and reasons
# removed; two for the handovers' decision and outcome notes; one for the comments of the referrers' survey; three
# for the patient's own link: the experience survey's free text, the send failures' reasons, the links not yet
# sent; one for the case studies, withdrawn and erased); the empty batch that ends the partnership; the audit
# entry; the savepoints of the nested transactions; and the cases' next deadline, refreshed once the batch's
# deadlines are settled.
QUERIES_PER_RUN_OF_ONE_BATCH = 66


@pytest.mark.parametrize("n", [2, 20])
def test_a_batch_costs_the_same_number_of_queries_for_2_referrals_as_for_20(django_assert_num_queries, partnership, n):
    assert _run_queries(django_assert_num_queries, partnership, n) == n


def test_the_command_lists_what_the_next_run_will_anonymise_then_runs_it(partnership):
    expired = closed_case(partnership)
    with later(6.1):
        out = StringIO()
        call_command("anonymise_expired", "--dry-run", stdout=out)
        assert f"{partnership.name}: 1 referral(s) finished before" in out.getvalue()
        assert expired.referral.reference in out.getvalue()
        assert not Patient.objects.filter(redacted_at__isnull=False).exists()

        out = StringIO()
        call_command("anonymise_expired", stdout=out)
    assert f"{partnership.name}: 1 referral(s) anonymised" in out.getvalue()
    assert Patient.objects.get(referral=expired.referral).redaction_reason == ErasureReason.RETENTION


def test_the_daily_beat_job_runs_the_retention(partnership):
    schedule = settings.CELERY_BEAT_SCHEDULE["anonymise-expired-records"]
    assert schedule["task"] == "referrals.tasks.anonymise_expired_records"
    expired = closed_case(partnership)
    with later(6.1):
        assert anonymise_task.apply().get() == {partnership.pk: 1}
    assert Patient.objects.get(referral=expired.referral).redacted_at is not None


def test_a_partnership_sets_its_retention_period_in_the_admin(client, partnership):
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:accounts_partnership_change", args=[partnership.pk])
    assert partnership.retention_years == 6 and 'name="retention_years"' in client.get(url).content.decode()


def test_the_admin_retention_page_shows_the_dry_run_to_staff_only(client, partnership, referrer_user):
    expired = closed_case(partnership)
    url = reverse("admin:referrals_referral_retention")
    client.force_login(referrer_user)
    assert client.get(url).status_code == 302  # to the admin sign-in
    with later(6.1):
        client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
        html = client.get(url).content.decode()
        changelist = client.get(reverse("admin:referrals_referral_changelist")).content.decode()
    assert partnership.name in html and expired.referral.reference in html
    assert expired.referral.patient.family_name not in html
    assert "Retention: what the next run will anonymise" in changelist
    assert Patient.objects.get(referral=expired.referral).redacted_at is None


def test_pages_say_when_and_why_the_details_were_removed(client, partnership):
    case = closed_case(partnership)
    referral = case.referral
    with later(6.1):
        anonymise_expired_records()
        removed_on = timezone.localdate()
    notice = f"Details removed (anonymised after the retention period on {removed_on:%-d %b %Y})"
    client.force_login(referral.referrer)
    page = client.get(reverse("referrals:detail", args=[referral.pk]))
    assert page.status_code == 200 and notice in page.content.decode()
    client.force_login(case.advisor)
    for url in (reverse("casework:case", args=[case.pk]), reverse("outcomes:case_outcomes", args=[case.pk])):
        page = client.get(url)
        assert page.status_code == 200 and notice in page.content.decode()
        assert referral.patient.family_name not in page.content.decode()


def test_the_cutoff_is_whole_calendar_years_back():
    now = timezone.make_aware(timezone.datetime(2032, 2, 29, 12, 0))
    assert retention_cutoff(now=now, years=6).date() == timezone.datetime(2026, 2, 28).date()


@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_messages_are_being_sent_is_left_for_the_next_run_and_the_rest_goes_on():
    partnership = factories.PartnershipFactory()
    busy, free = closed_case(partnership).referral, closed_case(partnership).referral
    message = a_message_about(busy)
    locked, release = threading.Event(), threading.Event()

    def hold_the_message():
        try:
            with transaction.atomic():
                Message.objects.select_for_update().get(pk=message.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()  # the thread's own connection, or the test database cannot be dropped

    holder = threading.Thread(target=hold_the_message)
    holder.start()
    try:
        assert locked.wait(10)
        with later(6.1):
            assert anonymise_expired_records(batch_size=1) == {partnership.pk: 1}
    finally:
        release.set()
        holder.join(10)
    assert Patient.objects.get(referral=free).redacted_at is not None
    assert Patient.objects.get(referral=busy).redacted_at is None
    with later(6.1):
        assert anonymise_expired_records() == {partnership.pk: 1}
    assert Patient.objects.get(referral=busy).redaction_reason == ErasureReason.RETENTION


def a_message_about(referral, *, key: str = "") -> Message:
    """A message about the patient in the referrer's inbox, with one delivery."""
    message = Message.objects.create(
        recipient=referral.referrer,
        kind=MessageKind.STATUS_NOTICE,
        key=key or f"test:{referral.pk}",
        subject="A notice",
        body="About the patient",
        referral_id=referral.pk,
    )
    Delivery.objects.create(message=message, channel=Delivery.Channel.INBOX)
    return message


# The session, the user (with its second-factor devices), the partnerships; per partnership the count
# and the references; the admin's own.
RETENTION_PAGE_QUERIES = 6


@pytest.mark.parametrize("n", [1, 6])
def test_the_retention_page_takes_the_same_queries_for_few_and_many_referrals(
    client, django_assert_num_queries, partnership, n
):
    for _ in range(n):
        closed_case(partnership)
    with later(6.1):
        client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
        with django_assert_num_queries(RETENTION_PAGE_QUERIES):
            html = client.get(reverse("admin:referrals_referral_retention")).content.decode()
    assert f"<td>{n}</td>" in html


def test_a_draft_left_unsent_is_discarded_and_anonymised_after_the_draft_period(client, partnership, settings):
    """A draft holds a patient's details no one else was told of: kept DRAFT_RETENTION_DAYS after its last change,
    whatever the partnership's period; a draft changed since, or sent, is kept."""
    settings.DRAFT_RETENTION_DAYS = 28
    abandoned = factories.ReferralFactory(partnership=partnership, status=S.DRAFT, description="About her rent")
    with time_machine.travel(timezone.now() + timedelta(days=20), tick=True):
        touched = factories.ReferralFactory(partnership=partnership, status=S.DRAFT)
    sent = factories.ReferralFactory(partnership=partnership, status=S.SUBMITTED)

    with time_machine.travel(timezone.now() + timedelta(days=29), tick=True):
        preview = {row.partnership: row for row in retention_preview()}
        assert preview[partnership].references == [abandoned.reference]
        assert anonymise_expired_records()[partnership.pk] == 1

    abandoned.refresh_from_db()
    assert abandoned.status == S.CANCELLED and abandoned.description == "[removed after the retention period]"
    assert Patient.objects.get(referral=abandoned).redaction_reason == ErasureReason.RETENTION
    change = abandoned.status_changes.get()
    assert (change.from_status, change.to_status, change.actor) == (S.DRAFT, S.CANCELLED, None)
    for kept in (touched, sent):
        kept.refresh_from_db()
        assert kept.status in (S.DRAFT, S.SUBMITTED) and Patient.objects.get(referral=kept).redacted_at is None
    # The referrer is told on the form how long a draft is kept.
    client.force_login(touched.referrer)
    assert (
        "A draft not sent within 28 days of its last change is deleted."
        in client.get(reverse("referrals:edit", args=[touched.pk])).content.decode()
    )
