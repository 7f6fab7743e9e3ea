"""Periodic jobs from the database: seeded from today's schedule, edited in the admin and noticed by a running
beat without a restart, and run once per due time even when two beats tick at the same moment. Against the
real PostgreSQL and Redis: what a beat enqueues is read back from the broker's queue."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
import redis
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from hjp.celery import app
from hjp.core.models import PeriodicJob, PeriodicJobRun
from hjp.core.scheduler import DatabaseScheduler
from tests import factories
from tests.support.celery_worker import celery_publishing_to

seed_jobs = import_module("hjp.core.migrations.0002_periodic_jobs").seed_jobs
SWEEP = "hjp.notifications.tasks.sweep_undelivered"
REMINDERS = "outcomes.tasks.send_daily_reminders"


def enqueued(redis_url) -> list[str]:
    """The names of the tasks waiting in the broker's queue."""
    return [json.loads(raw)["headers"]["task"] for raw in redis.Redis.from_url(redis_url).lrange("celery", 0, -1)]


@pytest.fixture
def beat(redis_url, db):
    """A beat's scheduler publishing to the real Redis (what `celery -A hjp beat --scheduler ...` runs), with
    only the jobs the test makes (not the seeded ones)."""
    PeriodicJob.objects.all().delete()
    with celery_publishing_to(redis_url):
        scheduler = DatabaseScheduler(app=app)
        yield scheduler
        scheduler.close()


@pytest.mark.django_db
def test_the_jobs_start_as_the_schedule_in_the_settings():
    PeriodicJob.objects.all().delete()  # what the migration wrote, written again here (a flush may have run)
    seed_jobs(apps, None)
    jobs = {job.name: job for job in PeriodicJob.objects.all()}
    assert set(jobs) == set(settings.CELERY_BEAT_SCHEDULE)
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert jobs[name].task == entry["task"] and jobs[name].enabled
    assert jobs["sweep-undelivered-messages"].every_seconds == settings.NOTIFICATION_SWEEP_SECONDS
    digests = jobs["monthly-digests"]
    assert (digests.minute, digests.hour, digests.day_of_month, digests.day_of_week) == (
        "0",
        str(settings.DIGEST_HOUR),
        str(settings.DIGEST_DAY_OF_MONTH),
        "",
    )


@pytest.mark.django_db
def test_an_admin_edit_changes_what_a_running_beat_does(client, beat, redis_url, time_machine):
    time_machine.move_to(datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC))
    job = PeriodicJob.objects.create(name="reminders", task=REMINDERS, minute="0", hour="7")
    beat.tick()
    assert enqueued(redis_url) == []  # created at 09:00: its first time is 07:00 tomorrow

    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    fields = {"name": job.name, "task": job.task, "enabled": "on", "day_of_month": "", "month_of_year": ""}
    response = client.post(
        reverse("admin:core_periodicjob_change", args=[job.pk]),
        {**fields, "every_seconds": "", "minute": "*/15", "hour": "*", "day_of_week": ""},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    time_machine.move_to(datetime(2026, 11, 30, 9, 15, 2, tzinfo=UTC))
    beat.tick()
    assert enqueued(redis_url) == [REMINDERS]  # the same beat, not restarted, ran it at 09:15
    assert PeriodicJobRun.objects.get().slot == datetime(2026, 11, 30, 9, 15, tzinfo=UTC)

    time_machine.move_to(datetime(2026, 11, 30, 9, 20, tzinfo=UTC))
    beat.tick()
    assert enqueued(redis_url) == [REMINDERS]  # not again before 09:30
    response = client.post(
        reverse("admin:core_periodicjob_change", args=[job.pk]),
        {**fields, "every_seconds": "", "minute": "*/15", "hour": "*", "day_of_week": "", "enabled": ""},
    )
    assert response.status_code == 302
    time_machine.move_to(datetime(2026, 11, 30, 9, 31, tzinfo=UTC))
    beat.tick()
    assert enqueued(redis_url) == [REMINDERS]  # switched off


@pytest.mark.django_db
def test_a_schedule_that_makes_no_sense_is_refused_with_a_message(client):
    job = PeriodicJob.objects.create(name="reminders", task=REMINDERS, minute="0", hour="7")
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    change = reverse("admin:core_periodicjob_change", args=[job.pk])
    fields = {"name": job.name, "enabled": "on", "day_of_month": "", "month_of_year": "", "day_of_week": ""}
    cases = [
        ({"task": REMINDERS, "every_seconds": "", "minute": "75", "hour": "7"}, "do not make a schedule"),
        ({"task": REMINDERS, "every_seconds": "60", "minute": "0", "hour": "7"}, "not both"),
        ({"task": REMINDERS, "every_seconds": "", "minute": "", "hour": ""}, "Give either"),
        ({"task": "outcomes.tasks.no_such_task", "every_seconds": "60", "minute": "", "hour": ""}, "no Celery task"),
    ]
    for data, message in cases:
        response = client.post(change, {**fields, **data})
        assert response.status_code == 200 and message in response.content.decode()
    job.refresh_from_db()
    assert (job.minute, job.hour, job.every_seconds) == ("0", "7", None)


@pytest.mark.django_db
def test_a_beat_that_was_down_runs_the_latest_missed_time_once(beat, redis_url, time_machine):
    time_machine.move_to(datetime(2026, 11, 27, 12, tzinfo=UTC))
    PeriodicJob.objects.create(name="reminders", task=REMINDERS, minute="0", hour="7")
    time_machine.move_to(datetime(2026, 11, 30, 8, tzinfo=UTC))  # 07:00 passed three times meanwhile
    beat.tick()
    beat.tick()
    assert enqueued(redis_url) == [REMINDERS]
    assert PeriodicJobRun.objects.get().slot == datetime(2026, 11, 30, 7, tzinfo=UTC)


def _backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database() AND l.pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_beats_ticking_for_the_same_due_time_enqueue_the_job_once(redis_url):
    PeriodicJob.objects.all().delete()
    job = PeriodicJob.objects.create(
        name="sweep", task=SWEEP, every_seconds=3600, last_run_at=timezone.now() - timedelta(hours=2)
    )
    with celery_publishing_to(redis_url):
        beats = [DatabaseScheduler(app=app), DatabaseScheduler(app=app)]
        errors, barrier = [], threading.Barrier(2)

        def tick(scheduler):
            try:
                barrier.wait()
                scheduler.tick()
            except Exception as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=tick, args=(scheduler,)) for scheduler in beats]
        # Both beats find the job due, then both try to record its run: hold the job's row meanwhile (a run's
        # row refers to it), so both inserts wait and are let go together.
        with transaction.atomic():
            PeriodicJob.objects.select_for_update().get(pk=job.pk)
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 20
            while _backends_waiting_for_a_lock() < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _backends_waiting_for_a_lock() == 2, "both beats should be claiming the run by now"
        for thread in threads:
            thread.join(20)
        for scheduler in beats:
            scheduler.close()
    assert errors == []
    assert enqueued(redis_url) == [SWEEP]
    assert PeriodicJobRun.objects.filter(job=job).count() == 1
