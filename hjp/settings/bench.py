"""`make bench`: production's settings (DEBUG off, the same middleware, sessions and database settings) on
loopback over plain HTTP, with the bare view's URLconf. For measuring only: it has a published secret key and
evidence key, and must never serve real patients."""

import os
import warnings

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-for-real-patients-0123456789")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")  # a GET enqueues nothing; production needs it set
os.environ.setdefault("TRUSTED_PROXY_COUNT", "0")  # gunicorn is reached directly on loopback
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("EVIDENCE_ENCRYPTION_KEYS", "aGpwLWJlbmNoLXNldHRpbmdzLW9ubHkta2V5LTEyMzQ=")

from hjp.settings.production import *  # noqa: F403
from hjp.settings.production import INSTALLED_APPS, LOGGING

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
# Static files are not measured: no collected manifest needed ({% static %} without hashed names).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: no collected static files
# The benchmark signs its users in (bench/queries.py): django-axes would log each sign-in. Its gunicorn
# (bench.http.Gunicorn) runs with BENCH_ACCESS_LOG=off: no access line for each of the tens of thousands of
# requests wrk makes, which would bury the bench's report; warnings and errors are logged as in production.
_LOGGERS = {"axes": {"level": "WARNING"}}
if os.environ.get("BENCH_ACCESS_LOG", "on") == "off":
    _LOGGERS["hjp.access"] = {"level": "WARNING"}
LOGGING = {**LOGGING, "loggers": _LOGGERS}
