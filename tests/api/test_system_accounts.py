"""An API client's system account is not a person: it is sent no email (its address is not a mailbox), no case
is assigned to it, and the idempotency records of its creates are purged by a periodic job after their day."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.utils import timezone

from api.idempotency import IDEMPOTENCY_LIFETIME
from api.models import IdempotencyRecord
from api.tasks import purge_idempotency_records
from casework import services as casework_services
from hjp.core.errors import DomainError
from hjp.core.models import PeriodicJob
from hjp.notifications.models import Delivery, Message, MessageKind
from hjp.notifications.services import message_deliver, message_queue
from tests import factories
from tests.api.conftest import register

mark_system_accounts = importlib.import_module("api.migrations.0003_service_users_are_system_accounts")
purge_job = importlib.import_module("api.migrations.0004_purge_idempotency_records_job")
seed = importlib.import_module("hjp.core.migrations.0002_periodic_jobs")


def test_a_registered_clients_service_user_is_a_system_account(health_client, referrer_user):
    assert health_client.client.service_user.is_system_account
    assert not referrer_user.is_system_account


def test_the_status_notice_of_a_referral_sent_through_the_api_is_not_emailed(
    sent_referral, advisor_user, health_org, partnership, django_capture_on_commit_callbacks
):
    by_a_person = factories.ReferralFactory(referring_organisation=health_org, partnership=partnership)
    with django_capture_on_commit_callbacks(execute=True):
        casework_services.referral_accept(referral=sent_referral, actor=advisor_user)
        casework_services.referral_accept(referral=by_a_person, actor=advisor_user)

    to_system = Message.objects.get(recipient=sent_referral.referrer, kind=MessageKind.STATUS_NOTICE)
    assert [(d.channel, d.status) for d in to_system.deliveries.all()] == [(Delivery.Channel.INBOX, "sent")]
    assert [email.to for email in mail.outbox] == [[by_a_person.referrer.email]]


def test_an_email_to_a_system_account_queued_before_is_cancelled_unsent(health_client):
    account = health_client.client.service_user
    message = message_queue(recipient=account, kind=MessageKind.STATUS_NOTICE, key="k", subject="s", body="b")
    Delivery.objects.create(message=message, channel=Delivery.Channel.EMAIL, status=Delivery.Status.FAILED, attempts=2)

    message_deliver(message_id=message.pk)

    email = message.deliveries.get(channel=Delivery.Channel.EMAIL)
    assert email.status == Delivery.Status.CANCELLED and "system account" in email.last_error
    assert email.attempts == 2 and mail.outbox == []


def test_the_migration_marks_the_clients_made_before_and_cancels_their_emails(health_client, advisor_user):
    account = health_client.client.service_user
    type(account).objects.filter(pk=account.pk).update(is_system_account=False)
    waiting = Delivery.objects.create(
        message=Message.objects.create(recipient=account, kind=MessageKind.STATUS_NOTICE, key="a", subject="s"),
        channel=Delivery.Channel.EMAIL,
    )
    to_a_person = Delivery.objects.create(
        message=Message.objects.create(recipient=advisor_user, kind=MessageKind.STATUS_NOTICE, key="b", subject="s"),
        channel=Delivery.Channel.EMAIL,
    )

    mark_system_accounts.mark_system_accounts(apps, None)

    account.refresh_from_db()
    assert account.is_system_account
    assert not type(account).objects.get(pk=advisor_user.pk).is_system_account
    waiting.refresh_from_db(), to_a_person.refresh_from_db()
    assert (waiting.status, to_a_person.status) == (Delivery.Status.CANCELLED, Delivery.Status.PENDING)


def test_a_system_account_must_name_the_advisor_and_cannot_hold_the_case(advice_client, sent_referral, advisor_user):
    account = advice_client.client.service_user
    with pytest.raises(DomainError, match="Name the advisor"):
        casework_services.referral_accept(referral=sent_referral, actor=account)
    with pytest.raises(DomainError, match="only be assigned to an advisor"):
        casework_services.referral_accept(referral=sent_referral, actor=account, advisor=account)

    case = casework_services.referral_accept(referral=sent_referral, actor=account, advisor=advisor_user)
    assert case.advisor == advisor_user


def test_the_purge_deletes_every_clients_records_past_their_day_and_only_those(health_org, advice_org, time_machine):
    first, second = register(health_org).client, register(advice_org).client
    now = timezone.now()
    old = [
        IdempotencyRecord.objects.create(client=c, key="old", request_hash="h", created_at=now - IDEMPOTENCY_LIFETIME)
        for c in (first, second)
    ]
    kept = IdempotencyRecord.objects.create(
        client=first, key="new", request_hash="h", created_at=now - IDEMPOTENCY_LIFETIME + timedelta(minutes=1)
    )
    time_machine.move_to(now + timedelta(seconds=1))

    assert purge_idempotency_records() == 2
    assert list(IdempotencyRecord.objects.all()) == [kept]
    assert not IdempotencyRecord.objects.filter(pk__in=[r.pk for r in old]).exists()
    assert purge_idempotency_records() == 0  # idempotent


@pytest.mark.django_db
def test_the_purge_job_is_seeded_as_the_schedule_in_the_settings_says():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-records"]
    assert entry["task"] == purge_idempotency_records.name
    PeriodicJob.objects.filter(name="purge-idempotency-records").delete()

    purge_job.add_job(apps, None)  # an installation migrated before: core.0002 seeded the jobs without it

    job = PeriodicJob.objects.get(name="purge-idempotency-records")
    fields = seed.job_fields(entry["schedule"])
    assert (job.task, job.enabled) == (entry["task"], True)
    assert {name: getattr(job, name) for name in fields} == fields
