"""Production: refuses to start without SECRET_KEY; passes `manage.py check --deploy` with no warning."""

from django.core.exceptions import ImproperlyConfigured

from hjp.settings.base import *  # noqa: F403
from hjp.settings.base import MAILERS, NOTIFICATION_EMAIL_TIMEOUT_SECONDS, SECRET_KEY, env_bool, env_int

if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")

if MAILERS["default"]["BACKEND"].endswith("console.EmailBackend"):
    # Without EMAIL_HOST, production hands mail to the local mail server rather than printing it.
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "localhost", "port": 25, "timeout": NOTIFICATION_EMAIL_TIMEOUT_SECONDS},
        }
    }

DEBUG = False
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
