"""Notification preferences: which kinds also come by email, and one daily summary instead of an email each. The
inbox always gets everything."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hjp.audit.models import AuditEvent
from hjp.core.models import PeriodicJob
from hjp.notifications import services
from hjp.notifications.models import Delivery, Message, MessageKind, NotificationPreference
from hjp.notifications.tasks import send_daily_summaries
from referrals import services as referral_services
from tests import factories
from tests.support.snapshots import assert_matches_snapshot, message_text

pytestmark = pytest.mark.django_db


def _queue(user, kind, key):
    return services.message_queue(
        recipient=user, kind=kind, key=key, subject="Something happened", body="Sign in to read it."
    )


def _email_status(message) -> str:
    return message.deliveries.get(channel=Delivery.Channel.EMAIL).status


def test_without_preferences_every_kind_comes_by_email(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue(user, MessageKind.REFERRAL_MESSAGE, "a")
    assert _email_status(message) == Delivery.Status.SENT and len(mail.outbox) == 1


def test_only_the_kinds_chosen_come_by_email_and_the_inbox_gets_everything(client, django_capture_on_commit_callbacks):
    user = factories.referrer()
    client.force_login(user)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert reverse("notifications:preferences") in page
    response = client.post(reverse("notifications:preferences"), {"email_kinds": [MessageKind.STATUS_NOTICE]})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(actor=user, object_type="notifications.notificationpreference").exists()

    with django_capture_on_commit_callbacks(execute=True):
        wanted = _queue(user, MessageKind.STATUS_NOTICE, "wanted")
        not_wanted = _queue(user, MessageKind.REFERRAL_MESSAGE, "not-wanted")
        security = _queue(user, MessageKind.SECURITY_NOTICE, "security")
    assert _email_status(wanted) == Delivery.Status.SENT
    assert _email_status(not_wanted) == Delivery.Status.CANCELLED
    assert not_wanted.deliveries.get(channel=Delivery.Channel.EMAIL).last_error == services.NOT_WANTED
    assert _email_status(security) == Delivery.Status.SENT  # a change to how they sign in always comes at once
    assert len(mail.outbox) == 2
    assert set(Message.objects.filter(recipient=user).values_list("status", flat=True)) == {"delivered"}
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert inbox.count("Something happened") == 3


def test_an_unknown_kind_is_refused_with_a_message(client):
    user = factories.referrer()
    client.force_login(user)
    response = client.post(reverse("notifications:preferences"), {"email_kinds": ["gossip"]})
    assert response.status_code == 400
    assert "Select the kinds of message that also come by email from the list" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def _arrived_yesterday(user, kind, key):
    """A message delivered to the inbox yesterday (after the delivery that ran when it was queued, if any)."""
    message = _queue(user, kind, key)
    transaction.on_commit(
        lambda: Message.objects.filter(pk=message.pk).update(
            status=Message.Status.DELIVERED, delivered_at=timezone.now() - timedelta(days=1)
        )
    )


def test_a_daily_summary_instead_of_an_email_each_once_a_day(django_capture_on_commit_callbacks):
    summarised = factories.UserFactory()
    services.notification_preference_set(
        user=summarised,
        email_kinds=[MessageKind.REFERRAL_MESSAGE, MessageKind.EVIDENCE_REPLY],
        daily_summary=True,
    )
    one_each = factories.UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(3):
            _arrived_yesterday(summarised, MessageKind.REFERRAL_MESSAGE, f"s{i}")
        _arrived_yesterday(summarised, MessageKind.DIGEST, "not-chosen")
        _arrived_yesterday(one_each, MessageKind.REFERRAL_MESSAGE, "o")
    assert [m.to for m in mail.outbox] == [[one_each.email]]  # no email each for the summarised user
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_summaries.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.daily_summaries_send() == 1  # run again the same day: queued once, by its key
    [email] = mail.outbox
    assert email.to == [summarised.email]
    assert "3 new messages arrived in your hjp inbox" in email.body  # the kinds chosen only
    assert f"{reverse('notifications:inbox')}" in email.body
    summary = Message.objects.get(kind=MessageKind.DAILY_SUMMARY)
    # The summary is an email about the inbox, not in it: the unread count and the inbox leave it out.
    from hjp.notifications.selectors import inbox

    assert summary not in inbox(user=summarised) and inbox(user=summarised).count() == 4


def test_the_summary_job_is_scheduled_by_the_migrations():
    job = PeriodicJob.objects.get(name="daily-summaries")
    assert (job.task, job.minute, job.hour) == ("hjp.notifications.tasks.send_daily_summaries", "15", "7")


def test_the_daily_summary(time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(datetime(2026, 11, 10, 12, tzinfo=UTC))
    user = factories.UserFactory(pk=4242)
    services.notification_preference_set(user=user, email_kinds=[MessageKind.REFERRAL_MESSAGE], daily_summary=True)
    with django_capture_on_commit_callbacks(execute=True):
        _arrived_yesterday(user, MessageKind.REFERRAL_MESSAGE, "one")
        _arrived_yesterday(user, MessageKind.REFERRAL_MESSAGE, "two")
    services.daily_summaries_send(day=date(2026, 11, 9))
    assert_matches_snapshot(message_text(Message.objects.get(kind=MessageKind.DAILY_SUMMARY)), "daily_summary")


def test_the_message_on_a_referral_notice(time_machine):
    time_machine.move_to(datetime(2026, 11, 10, 12, tzinfo=UTC))
    referral = factories.ReferralFactory(
        reference="RSNAP015", patient__given_name="Barbara", patient__family_name="Kowalski"
    )
    referral.referring_organisation.name = "Riverside Surgery"
    referral.referring_organisation.save()
    supervisor = factories.advisor(referral.advice_organisation, supervisor=True)
    referral.referrer.full_name = "Dr Asha Patel"
    referral.referrer.save()
    referral_services.referral_message_post(referral=referral, actor=referral.referrer, text="She is deaf.")
    notice = Message.objects.get(recipient=supervisor, kind=MessageKind.REFERRAL_MESSAGE)
    assert_matches_snapshot(message_text(notice), "referral_message")


def test_the_consent_withdrawn_notice(time_machine):
    time_machine.move_to(datetime(2026, 11, 10, 12, tzinfo=UTC))
    referral = factories.ReferralFactory(reference="RSNAP016")
    supervisor = factories.advisor(referral.advice_organisation, supervisor=True)
    referral_services.consent_withdraw(referral=referral, actor=referral.referrer)
    notice = Message.objects.get(recipient=supervisor, kind=MessageKind.CONSENT_WITHDRAWN)
    assert_matches_snapshot(message_text(notice), "consent_withdrawn")
