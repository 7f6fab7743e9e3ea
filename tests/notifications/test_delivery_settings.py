"""The delivery promises that rest on settings every environment shares (hjp/settings/base.py), not only tests."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import hjp.settings.base
from hjp.celery import app

BASE_SETTINGS = Path(hjp.settings.base.__file__)


def base_settings(monkeypatch, **env):
    for name in ("EMAIL_HOST", "EMAIL_TIMEOUT", "CELERY_VISIBILITY_TIMEOUT", "CELERY_TASK_TIME_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_SETTINGS))


def longest_retry_countdown() -> int:
    """The longest a retry of any of our tasks waits, from the tasks' own options."""
    app.loader.import_default_modules()
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert {"hjp.notifications.tasks.deliver_message", "outcomes.tasks.send_daily_reminders"} <= set(app.tasks)
    celery_default_backoff_max = 600  # what celery.app.autoretry uses when a task sets no retry_backoff_max
    return max(
        max(
            task.default_retry_delay,
            getattr(task, "retry_backoff_max", celery_default_backoff_max)
            if getattr(task, "retry_backoff", False)
            else 0,
        )
        for task in ours
    )


def test_the_broker_gives_a_lost_task_back_only_after_the_longest_retry_wait_and_run(monkeypatch):
    """A retry waits for its countdown unacknowledged; were the visibility timeout shorter, Redis would hand it
    to a second worker and it would run twice. Before, only the test settings set it (kombu's default is an
    hour, so a task held by a killed worker came back an hour later)."""
    settings = base_settings(monkeypatch)
    visibility = settings["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"]
    assert visibility > longest_retry_countdown() + settings["CELERY_TASK_TIME_LIMIT"]
    assert visibility < 3600
    configured = base_settings(monkeypatch, CELERY_VISIBILITY_TIMEOUT="1200")
    assert configured["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"visibility_timeout": 1200}
    # A longer task time limit moves the default up with it; a timeout set too short refuses to start.
    longer = base_settings(monkeypatch, CELERY_VISIBILITY_TIMEOUT="", CELERY_TASK_TIME_LIMIT="300")
    assert longer["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"] > longest_retry_countdown() + 300
    with pytest.raises(ImproperlyConfigured, match="CELERY_VISIBILITY_TIMEOUT must exceed"):
        base_settings(monkeypatch, CELERY_VISIBILITY_TIMEOUT="700")


def test_smtp_gives_up_after_the_email_timeout(monkeypatch):
    """Without a timeout Django's SMTP backend waits for ever on a mail server that hangs."""
    options = base_settings(monkeypatch, EMAIL_HOST="smtp.example.org")["MAILERS"]["default"]["OPTIONS"]
    assert options["timeout"] == 10
    options = base_settings(monkeypatch, EMAIL_HOST="smtp.example.org", EMAIL_TIMEOUT="4")["MAILERS"]["default"][
        "OPTIONS"
    ]
    assert options["timeout"] == 4
