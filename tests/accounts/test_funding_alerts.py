"""Alerts 90 and 30 days before a funding period or a partnership ends: to the partnership's managers and its
advice organisation's supervisors, in the inbox and by email as each chose, once per funding, threshold and person."""

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import close_old_connections
from django.urls import reverse

from hjp.accounts.services import funding_alerts_send
from hjp.accounts.services.funding_alerts import threshold_for
from hjp.accounts.tasks import send_funding_alerts
from hjp.audit.models import AuditEvent
from hjp.core.models import PeriodicJob
from hjp.notifications.models import Delivery, Message, MessageKind, NotificationPreference
from hjp.notifications.services import message_deliver
from tests import factories
from tests.support.snapshots import assert_matches_snapshot, message_text

pytestmark = pytest.mark.django_db


def at(day: date):
    return datetime(day.year, day.month, day.day, 8, tzinfo=UTC)


@pytest.fixture
def people(partnership, manager_user, supervisor_user, advisor_user, funder_user):
    other = factories.PartnershipFactory()
    factories.partnership_member(other, "manager")  # told about nothing of this partnership
    return {"manager": manager_user, "supervisor": supervisor_user}


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(91, None), (90, 90), (31, 90), (30, 30), (1, 30), (0, 30), (-1, None)],
)
def test_the_threshold_an_end_date_is_within(days_left, threshold):
    today = date(2026, 1, 1)
    assert threshold_for(ends_on=date.fromordinal(today.toordinal() + days_left), today=today) == threshold


def test_managers_and_supervisors_are_told_90_and_30_days_before_a_funding_ends(
    time_machine, partnership, people, mailoutbox, django_capture_on_commit_callbacks
):
    partnership.name = "Riverside HJP"
    partnership.save()
    funding = factories.FundingFactory(
        partnership=partnership, funder="Community Fund", period_start=date(2025, 7, 1), period_end=date(2026, 6, 30)
    )
    told = lambda: sorted(  # noqa: E731
        Message.objects.filter(kind=MessageKind.FUNDING_ENDING).values_list("recipient__email", "key")
    )

    time_machine.move_to(at(date(2026, 3, 31)))  # 91 days before
    assert send_funding_alerts() == 0
    time_machine.move_to(at(date(2026, 4, 1)))  # 90 days before
    with django_capture_on_commit_callbacks(execute=True):
        assert send_funding_alerts() == 2
    assert told() == sorted(
        (user.email, f"funding_ending:funding:{funding.pk}:2026-06-30:90:user:{user.pk}") for user in people.values()
    )
    [to_manager] = Message.objects.filter(recipient=people["manager"])
    assert to_manager.subject == f"{partnership.name}: the funding from Community Fund ends on 30 Jun 2026"
    assert to_manager.url == f"{reverse('outcomes:dashboard')}?partnership={partnership.pk}"
    assert Message.objects.get(recipient=people["supervisor"]).url == ""
    assert_matches_snapshot(message_text(to_manager), "funding_ending")
    # Delivered to the inbox and by email (neither chose otherwise); the email names nothing but a sign-in link.
    assert {(d.channel, d.status) for d in to_manager.deliveries.all()} == {("inbox", "sent"), ("email", "sent")}
    assert len(mailoutbox) == 2 and "Community Fund" not in mailoutbox[0].body
    assert AuditEvent.objects.filter(object_id=str(partnership.pk), summary__contains="(90 days), 2 told").count() == 1

    for day in (date(2026, 4, 2), date(2026, 5, 31 - 1)):  # the days after, to 31 days before: nothing new
        time_machine.move_to(at(day))
        assert send_funding_alerts() == 0
    time_machine.move_to(at(date(2026, 6, 1)))  # 29 days before: the job did not run 30 days before
    assert send_funding_alerts() == 2
    assert send_funding_alerts() == 0
    assert Message.objects.filter(key__contains=":30:user:").count() == 2
    time_machine.move_to(at(date(2026, 7, 1)))  # over
    assert send_funding_alerts() == 0
    assert Message.objects.filter(kind=MessageKind.FUNDING_ENDING).count() == 4


def test_a_funding_recorded_inside_30_days_is_told_once_at_30_not_at_90(time_machine, partnership, people):
    time_machine.move_to(at(date(2026, 6, 20)))
    factories.FundingFactory(partnership=partnership, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30))
    assert funding_alerts_send(today=date(2026, 6, 20)) == 2
    assert set(Message.objects.values_list("subject", flat=True)) == {
        f"{partnership.name}: the funding from Integrated Care Board ends on 30 Jun 2026"
    }
    assert not Message.objects.filter(key__contains=":90:").exists()


def test_the_partnership_ending_is_told_and_an_extended_funding_is_told_again(time_machine, partnership, people):
    partnership.end_date = date(2026, 12, 31)
    partnership.save()
    funding = factories.FundingFactory(
        partnership=partnership, period_start=date(2026, 1, 1), period_end=date(2026, 10, 31)
    )
    assert funding_alerts_send(today=date(2026, 10, 2)) == 4  # the partnership at 90, the funding at 30
    assert Message.objects.filter(subject=f"{partnership.name}: the partnership ends on 31 Dec 2026").count() == 2
    funding.period_end = date(2026, 12, 31)  # extended: its new end is another ending
    funding.save()
    assert funding_alerts_send(today=date(2026, 10, 3)) == 2
    assert funding_alerts_send(today=date(2026, 10, 4)) == 0


def test_email_follows_each_persons_preferences(partnership, people, mailoutbox):
    NotificationPreference.objects.create(user=people["supervisor"], email_kinds=[])  # inbox only
    factories.FundingFactory(partnership=partnership, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30))
    funding_alerts_send(today=date(2026, 6, 1))
    for message in Message.objects.all():
        message_deliver(message_id=message.pk)
    assert [email.to for email in mailoutbox] == [[people["manager"].email]]
    supervisor_email = Delivery.objects.get(message__recipient=people["supervisor"], channel="email")
    assert supervisor_email.status == "cancelled"
    assert Delivery.objects.filter(channel="inbox", status="sent").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_beats_running_the_job_at_once_tell_each_person_once(partnership, people):
    factories.FundingFactory(partnership=partnership, period_start=date(2026, 1, 1), period_end=date(2026, 6, 30))
    barrier, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            barrier.wait()
            results.append(funding_alerts_send(today=date(2026, 6, 1)))
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Message.objects.filter(kind=MessageKind.FUNDING_ENDING).count() == 2
    assert Delivery.objects.filter(channel="inbox").count() == 2


def test_the_job_is_a_periodic_job():
    job = PeriodicJob.objects.get(name="funding-alerts")
    assert (job.task, job.minute, job.hour) == ("hjp.accounts.tasks.send_funding_alerts", "30", "7")
