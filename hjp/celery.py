"""The Celery app. Settings come from Django settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hjp.settings.local")

app = Celery("hjp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect(dispatch_uid="hjp.celery.close_old_database_connections")
def close_old_database_connections(sender=None, **kwargs) -> None:
    """After each task in a worker, what Django does after each request: close a database connection that
    failed or outlived CONN_MAX_AGE, and keep the others (CONN_HEALTH_CHECKS tests one before the next task
    uses it). Celery's own fixup would close it after every task (CELERY_DB_REUSE_MAX), and connecting cost
    more than the rest of a delivery. Not for a task run eagerly inside a request (make run without a
    broker), whose connection the request owns."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
