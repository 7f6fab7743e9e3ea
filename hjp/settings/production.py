"""Production: refuses to start without SECRET_KEY, DATABASE_URL or REDIS_URL; passes `manage.py check --deploy`
with no warning."""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from hjp.settings.base import *  # noqa: F403
from hjp.settings.base import (
    BASE_DIR,
    MAILERS,
    NOTIFICATION_EMAIL_TIMEOUT_SECONDS,
    SECRET_KEY,
    env_bool,
    env_int,
    logging_config,
)

if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")

# --- Fail closed: no fallback to SQLite, nor to Celery tasks run inside the web request -----------------------
# base.py falls back to both so that `make run` needs no configuration; production refuses to start instead,
# since tasks run in the request would send feedback from inside it and a SQLite file is no place for health data.
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "DATABASE_URL must be set in production (e.g. postgres://hjp:secret@db:5432/hjp); "
        "hjp.settings.production does not fall back to SQLite."
    )
if not os.environ.get("REDIS_URL"):
    raise ImproperlyConfigured(
        "REDIS_URL must be set in production (e.g. redis://127.0.0.1:6379/0), the Celery broker; "
        "hjp.settings.production does not run tasks inside the web request."
    )
CELERY_TASK_ALWAYS_EAGER = False
# Behind the HTTPS proxy production expects, the client address (sign-in lock-out, reset limits, the audit log's
# "from where") is right only when hjp knows how many proxies append to X-Forwarded-For: left unset, every client
# would share the proxy's address (one person's typing errors would lock everyone out). Say it explicitly.
if os.environ.get("TRUSTED_PROXY_COUNT", "").strip() == "":
    raise ImproperlyConfigured(
        "TRUSTED_PROXY_COUNT must be set in production: the number of proxies in front of hjp that append to "
        "X-Forwarded-For (1 for one nginx or load balancer; 0 only if clients reach gunicorn directly)."
    )
# Where `collectstatic` writes the files gunicorn serves through WhiteNoise (collected before the web starts).
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# --- end of fail closed ------------------------------------------------------------------------------------------

# Evidence files are encrypted at rest (hjp.core.storage); production has no development key to fall back on.
if not EVIDENCE_ENCRYPTION_KEYS:  # noqa: F405 (read and checked in base)
    raise ImproperlyConfigured(
        "EVIDENCE_ENCRYPTION_KEYS must be set in production: comma-separated Fernet keys, the first encrypts. "
        'Make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )

if MAILERS["default"]["BACKEND"].endswith("console.EmailBackend"):
    # Without EMAIL_HOST, production hands mail to the local mail server rather than printing it.
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "localhost", "port": 25, "timeout": NOTIFICATION_EMAIL_TIMEOUT_SECONDS},
        }
    }

# One JSON object per log line, for the log pipeline (LOG_FORMAT=text for people reading a terminal). /metrics stays
# off unless METRICS_TOKEN is set (base.py): Prometheus then sends it as a bearer token.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOGGING = logging_config(LOG_FORMAT)

DEBUG = False
WEBHOOK_ALLOW_HTTP_LOOPBACK = False  # webhook endpoints are https:// and on the internet, never this machine
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# The __Host- prefix: browsers take these cookies only over HTTPS, for the whole site (path /) and for this
# host alone (no Domain), so no other site on a sibling subdomain can set or overwrite them.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = "/"
SESSION_COOKIE_DOMAIN = CSRF_COOKIE_DOMAIN = None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
