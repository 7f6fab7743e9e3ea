"""Test settings: the database and broker come from DATABASE_URL and REDIS_URL (make test sets both)."""

from hjp.settings.base import *  # noqa: F403
from hjp.settings.base import BASE_DIR

SECRET_KEY = "test-secret-key-that-is-long-enough-for-django-checks-0123456789"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
PRIVATE_MEDIA_ROOT = BASE_DIR / "test-artifacts" / "private_media"
# Unit tests run tasks in-process; tests marked celery_worker switch to the real broker.
CELERY_TASK_ALWAYS_EAGER = True
AXES_ENABLED = True
