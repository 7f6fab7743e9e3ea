"""Celery beat's scheduler for hjp: the periodic jobs are rows of PeriodicJob, which admins edit.

    celery -A hjp beat --scheduler hjp.core.scheduler:DatabaseScheduler

Every tick (at most `max_interval` seconds apart) reads the enabled jobs again, so an edit in the admin takes
effect within seconds, without a restart. A job due is claimed first (hjp.core.periodic.periodic_job_claim: a
row unique by job and due time), and only the beat that claimed it enqueues the task: two beats started by
mistake run each job once per due time. (django-celery-beat does this job elsewhere, but its releases do not
support Django 6.1 yet.)"""

import logging

from celery.beat import Scheduler
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from hjp.core.models import PeriodicJob
from hjp.core.periodic import due_slot, periodic_job_claim, periodic_job_release, periodic_job_runs_prune

logger = logging.getLogger(__name__)


class DatabaseScheduler(Scheduler):
    max_interval = 5

    def setup_schedule(self):
        # The jobs are in the database (seeded from settings.CELERY_BEAT_SCHEDULE by a migration), not here.
        self.data = {}

    def tick(self, *args, **kwargs) -> float:
        """Enqueue every job due now that no beat has run for this due time; returns the seconds to sleep."""
        if not connection.in_atomic_block:  # (a test's transaction)
            close_old_connections()  # what Django does between requests: a connection that failed is replaced
        try:
            jobs = list(PeriodicJob.objects.filter(enabled=True))
            now = timezone.now()
            for job in jobs:
                slot = due_slot(job, now)
                if slot is not None and periodic_job_claim(job=job, slot=slot):
                    self._enqueue(job, slot)
        except DatabaseError:
            logger.exception("beat: the periodic jobs could not be read or claimed; trying again.")
        if self.should_sync():
            self._do_sync()
        return self.max_interval

    def _enqueue(self, job: PeriodicJob, slot) -> None:
        logger.info("Scheduler: Sending due task %s (%s) for %s", job.name, job.task, slot.isoformat())
        try:
            self.app.send_task(job.task, producer=self.producer, headers={"celery_beat_task": True})
        except Exception:
            periodic_job_release(job=job, slot=slot)
            logger.exception("beat: could not enqueue %s; it will be tried again.", job.name)

    def sync(self):
        try:
            periodic_job_runs_prune()
        except DatabaseError:
            logger.exception("beat: could not prune the record of past runs.")

    @property
    def info(self):
        return "    . jobs -> the database (/admin/core/periodicjob/)"
