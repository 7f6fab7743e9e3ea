"""Test settings: the database and broker come from DATABASE_URL and REDIS_URL (make test sets both)."""

import os

from hjp.settings.base import *  # noqa: F403
from hjp.settings.base import BASE_DIR, DATABASES, NOTIFICATION_EMAIL_TIMEOUT_SECONDS, env_bool

SECRET_KEY = "test-secret-key-that-is-long-enough-for-django-checks-0123456789"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PRIVATE_MEDIA_ROOT = BASE_DIR / "test-artifacts" / "private_media"
EVIDENCE_ENCRYPTION_KEYS = ["aGpwLXRlc3Qtc2V0dGluZ3Mtb25seS1rZXktMTIzNDU="]  # "hjp-test-settings-only-key-12345"
CLAMD_URL = ""  # tests that scan start their own fake clamd (tests/support/fake_clamd.py)
# Unit tests run tasks in-process; the Celery worker tests start a real worker with this set to false.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
# A read replica that is the test database itself (Django's test mirror), declared before the test database is set
# up; the pages that may read from a replica do so only in the tests that switch READ_FROM_REPLICA on
# (tests/core/test_read_replica.py, whose test may use both aliases).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
READ_FROM_REPLICA = False
# A short visibility timeout, so a task held by a killed worker comes back within a test.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 30}

# The tests' webhook receivers listen on http://127.0.0.1 (tests/support/webhook_listener.py).
WEBHOOK_ALLOW_HTTP_LOOPBACK = True

MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
if os.environ.get("HJP_TEST_SMTP_PORT"):
    # A worker started by the tests talks real SMTP to the test's own mail server on loopback
    # (tests/support/smtp_listener.py), which records every email it receives.
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": "127.0.0.1",
                "port": int(os.environ["HJP_TEST_SMTP_PORT"]),
                "use_tls": False,
                "timeout": NOTIFICATION_EMAIL_TIMEOUT_SECONDS,
            },
        }
    }
