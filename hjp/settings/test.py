"""Test settings: the database and broker come from DATABASE_URL and REDIS_URL (make test sets both)."""

import os

from hjp.settings.base import *  # noqa: F403
from hjp.settings.base import BASE_DIR, env_bool

SECRET_KEY = "test-secret-key-that-is-long-enough-for-django-checks-0123456789"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PRIVATE_MEDIA_ROOT = BASE_DIR / "test-artifacts" / "private_media"
# Unit tests run tasks in-process; the Celery worker tests start a real worker with this set to false.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 30}

MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
if os.environ.get("HJP_TEST_EMAIL_DIR"):
    # A worker started by the tests writes each email it sends to a file the test can count.
    MAILERS = {
        "default": {
            "BACKEND": os.environ.get("HJP_TEST_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"),
            "OPTIONS": {"file_path": os.environ["HJP_TEST_EMAIL_DIR"]},
        }
    }
