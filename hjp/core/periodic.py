"""Periodic jobs kept in the database (PeriodicJob): when each one is due, and the claim that runs it once per
due time however many beats tick (hjp.core.scheduler is the beat's scheduler that uses them)."""

from datetime import UTC, datetime, timedelta

from celery.schedules import crontab
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hjp.core.models import PeriodicJob, PeriodicJobRun

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RUNS_KEPT = timedelta(days=7)


def schedule_of(job: PeriodicJob) -> crontab | None:
    """The job's crontab, in Celery's timezone (CELERY_TIMEZONE); None for a job that runs every N seconds.
    Raises ValueError when the fields make no crontab."""
    if job.every_seconds is not None:
        return None
    from hjp.celery import app

    return crontab(
        minute=job.minute,
        hour=job.hour,
        day_of_month=job.day_of_month or "*",
        month_of_year=job.month_of_year or "*",
        day_of_week=job.day_of_week or "*",
        app=app,
    )


def due_slot(job: PeriodicJob, now: datetime) -> datetime | None:
    """The latest time, at or before `now`, the job was due, when it has not run for that time yet; else None.
    Every beat computes the same time for the same job: whole multiples of `every_seconds` since 1970, or the
    crontab's times. A job that never ran counts from its creation, so a new job waits for its first time; a
    beat that was down runs the latest missed time once, not every one it missed."""
    since = job.last_run_at or job.created_at
    if job.every_seconds is not None:
        periods = int((now - EPOCH).total_seconds() // job.every_seconds)
        slot = EPOCH + timedelta(seconds=periods * job.every_seconds)
        return slot if slot > since else None
    schedule = schedule_of(job)
    slot = _next_after(schedule, since)
    if slot > now:
        return None
    while (following := _next_after(schedule, slot)) <= now:
        slot = following
    return slot


def _next_after(schedule: crontab, moment: datetime) -> datetime:
    start, delta, _ = schedule.remaining_delta(moment)
    return start + delta


@transaction.atomic
def periodic_job_claim(*, job: PeriodicJob, slot: datetime) -> bool:
    """Record the run of `job` due at `slot`. True for the one caller that recorded it, who then enqueues the
    task; a second beat claiming the same run waits on the unique index, then finds it and gets False."""
    _, created = PeriodicJobRun.objects.get_or_create(job=job, slot=slot)
    if created:
        PeriodicJob.objects.filter(Q(last_run_at__isnull=True) | Q(last_run_at__lt=slot), pk=job.pk).update(
            last_run_at=slot
        )
    return created


@transaction.atomic
def periodic_job_release(*, job: PeriodicJob, slot: datetime) -> None:
    """Undo a claim whose task could not be enqueued (the broker down), so the next tick tries again."""
    PeriodicJobRun.objects.filter(job=job, slot=slot).delete()
    PeriodicJob.objects.filter(pk=job.pk, last_run_at=slot).update(last_run_at=job.last_run_at)


def periodic_job_runs_prune(*, now: datetime | None = None) -> int:
    """Delete the record of runs older than RUNS_KEPT (a week stays, to read in the admin)."""
    cutoff = (now or timezone.now()) - RUNS_KEPT
    deleted, _ = PeriodicJobRun.objects.filter(slot__lt=cutoff).delete()
    return deleted
