"""Settings shared by every environment. Everything that differs comes from environment variables."""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from pythonjsonlogger.core import RESERVED_ATTRS

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "hjp.accounts.apps.HjpAdminConfig",  # Django's admin, on a site that needs the second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # GinIndex (the trigram indexes of patient names) needs it; on SQLite it does nothing.
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from this installation, no CDN
    "oauth2_provider",
    "hjp.core",
    "hjp.accounts",
    "hjp.audit",
    "hjp.notifications",
    "hjp.operations",
    "referrals",
    "casework",
    "outcomes",
    "api",
]

MIDDLEWARE = [
    "hjp.core.middleware.PermissionsPolicyMiddleware",  # first, so that even an HTTPS redirect carries it
    # Health probes and /metrics, answered before everything below (hjp/operations/probes.py).
    "hjp.operations.probes.ProbeMiddleware",
    # The request id, the access log line and the request metrics, around everything below.
    "hjp.operations.requests.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "hjp.core.sessions.IdleTimeoutMiddleware",  # inside SessionMiddleware: decides whether it saves the session
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hjp.accounts.middleware.OTPMiddleware",  # django-otp's, checking the device with the user's own read
    "hjp.audit.context.AuditContextMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The one place the second factor is enforced (hjp/accounts/middleware.py).
    "hjp.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "hjp.core.sessions.AbsoluteSessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "hjp.core.middleware.NoStoreForSignedInUsersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hjp.urls"
WSGI_APPLICATION = "hjp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "hjp.core.context_processors.navigation",
                "referrals.context_processors.vocabulary",
                "casework.context_processors.vocabulary",
            ],
            # `{% url %}` made once per view for links that take ids (hjp/core/templatetags/fast_url.py).
            "builtins": ["hjp.core.templatetags.fast_url"],
        },
    },
]

# Each web and worker process keeps its database connection for DATABASE_CONN_MAX_AGE seconds (0: a new one per
# request), checked before a request reuses it. PostgreSQL's JIT compiler is off: it makes short OLTP queries slower.
# Behind PgBouncer in transaction mode (DATABASE_PGBOUNCER), a connection may be another server's at every
# transaction: no startup options (set jit=off on the role or database instead), no server-side cursors (see the
# README, "Performance settings").
DATABASE_PGBOUNCER = env_bool("DATABASE_PGBOUNCER", False)


def database(url: str, *, pgbouncer: bool) -> dict:
    """The settings of the database at `url` (a DATABASES entry)."""
    config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.postgresql":
        if pgbouncer:
            config["DISABLE_SERVER_SIDE_CURSORS"] = True
        else:
            options = config.setdefault("OPTIONS", {})
            options["options"] = f"{options.get('options', '')} -c jit=off".strip()
        # A database that accepts the connection and does not answer: give up after this many seconds (libpq waits
        # for ever by default), in a request and in the readiness probe.
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
    return config


DATABASES = {
    "default": database(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}", pgbouncer=DATABASE_PGBOUNCER
    )
}
# An optional read replica for the pages that only add figures up (the managers' dashboard, the funder report and
# its CSV): hjp.core.db_routers sends their reads there; every write, and every other page, uses the primary.
READ_FROM_REPLICA = bool(os.environ.get("DATABASE_REPLICA_URL"))
if READ_FROM_REPLICA:
    DATABASES["replica"] = database(os.environ["DATABASE_REPLICA_URL"], pgbouncer=DATABASE_PGBOUNCER)
DATABASE_ROUTERS = ["hjp.core.db_routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading each request's user with its inbox count and confirmed devices.
    "hjp.accounts.backends.AccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "hjp.accounts.validators.NotYourNameValidator"},
]
# Password reset (hjp.accounts.services): a link valid for an hour, at most 3 requests an hour for one email
# address and 10 from one client address; beyond that the page looks the same and nothing is sent.
PASSWORD_RESET_TIMEOUT = 60 * 60
PASSWORD_RESET_LIMIT_PER_ACCOUNT = env_int("PASSWORD_RESET_LIMIT_PER_ACCOUNT", 3)
PASSWORD_RESET_LIMIT_PER_ADDRESS = env_int("PASSWORD_RESET_LIMIT_PER_ADDRESS", 10)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 idle minutes: a request pushes the expiry on, writing the session at most once a minute
# (hjp.core.sessions.IdleTimeoutMiddleware), so a session may end up to a minute sooner, never later.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = False
# However active, a session ends this long after its sign-in (hjp.core.sessions).
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 10 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True

# How many proxies in front of hjp append to X-Forwarded-For (0: none, REMOTE_ADDR is the client). The one
# helper that reads it, hjp.core.proxies.client_address, gives the address to django-axes and the audit log.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Failed sign-ins: 5 failures for one account (from any address), or from one address (to any accounts),
# lock that account, or that address, out for 15 minutes after the last failure. Counted apart, so a password
# sprayed across accounts from one address is stopped, and so is an attacker who changes address.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A successful sign-in clears its account's failures, never its address's (hjp.accounts.lockout).
AXES_HANDLER = "hjp.accounts.lockout.AccountResetDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "hjp.accounts.lockout.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "hjp.accounts.lockout.username_of"
AXES_CLIENT_IP_CALLABLE = "hjp.core.proxies.client_address"

# Second factor (django-otp): authenticator apps (TOTP) and one-time recovery codes. A wrong code makes the
# next attempt wait 1, 2, 4, 8 ... seconds (django-otp's throttling, per device).
OTP_TOTP_ISSUER = "hjp"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret
# Removing a device or adding one, or new recovery codes, needs a second factor passed this recently.
SECOND_FACTOR_RECENT_SECONDS = env_int("SECOND_FACTOR_RECENT_SECONDS", 10 * 60)
# Passkeys and security keys (django-otp-webauthn), a second factor after the password, never instead of it.
# The relying party is the host name the browser uses (one of ALLOWED_HOSTS) and the expected origin that
# host with the request's scheme (hjp.accounts.passkeys): the same code serves https://hjp.example.org behind
# the proxy and http://localhost:8000 on a laptop. A passkey works only at the host name it was made at, and
# browsers refuse passkeys at an IP address (so http://localhost:8000, not http://127.0.0.1:8000).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_ID_CALLABLE = "hjp.accounts.passkeys.relying_party_id"
OTP_WEBAUTHN_RP_NAME = "hjp"
OTP_WEBAUTHN_HELPER_CLASS = "hjp.accounts.passkeys.PasskeyHelper"
OTP_WEBAUTHN_TIMEOUT_SECONDS = 5 * 60
# otp_webauthn.E030 asks for a fixed OTP_WEBAUTHN_ALLOWED_ORIGINS list, which PasskeyHelper replaces with the
# request's own origin (its host already checked against ALLOWED_HOSTS).
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]

LANGUAGE_CODE = "en-gb"
# The patient's own pages are translated (outcomes.patient_voice); staff pages are in English.
LANGUAGES = [("en-gb", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded documents (medical evidence) live outside the static and public media paths and are only
# served through permission-checked views.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", BASE_DIR / "private_media"))
# They are encrypted there (hjp.core.storage): comma-separated Fernet keys, the first encrypts, every one decrypts.
# `local` and `test` have development keys; production refuses to start without this.
EVIDENCE_ENCRYPTION_KEYS = env_list("EVIDENCE_ENCRYPTION_KEYS")
for _number, _key in enumerate(EVIDENCE_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key)
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            f"EVIDENCE_ENCRYPTION_KEYS: key {_number} is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from None
# Where the encrypted bytes are kept (hjp.core.storage): "filesystem" (PRIVATE_MEDIA_ROOT, one host) or "s3" (an
# S3-compatible bucket every host shares). The credentials are read from the environment by boto3 alone
# (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the host's role), never kept in settings.
EVIDENCE_STORAGE = os.environ.get("EVIDENCE_STORAGE", "filesystem").strip() or "filesystem"
if EVIDENCE_STORAGE not in ("filesystem", "s3"):
    raise ImproperlyConfigured(f'EVIDENCE_STORAGE must be "filesystem" or "s3", not {EVIDENCE_STORAGE!r}')
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL", "").strip()  # empty: Amazon S3 itself
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME", "").strip()
AWS_LOCATION = os.environ.get("AWS_LOCATION", "").strip().strip("/")  # a folder (key prefix) in the bucket
if EVIDENCE_STORAGE == "s3" and not AWS_STORAGE_BUCKET_NAME:
    raise ImproperlyConfigured("EVIDENCE_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME (a private bucket).")
# A request with a document up to the evidence size limit (10 MB, hjp/core/uploads.py) and the rest of its form
# stays in memory (Django compares the whole request's length), so an accepted document never touches the disk
# unencrypted; larger ones (refused anyway) go to a temporary file that Django deletes.
FILE_UPLOAD_MAX_MEMORY_SIZE = 11 * 1024 * 1024
# Every uploaded document is streamed to ClamAV's clamd first when this is set: tcp://host:port or
# unix:///path/to/clamd.ctl. A scanner that cannot be reached refuses the upload.
CLAMD_URL = os.environ.get("CLAMD_URL", "").strip()
if CLAMD_URL and not CLAMD_URL.startswith(("tcp://", "unix://")):
    raise ImproperlyConfigured(f"CLAMD_URL must be tcp://host:port or unix:///path, not {CLAMD_URL!r}")
CLAMD_TIMEOUT_SECONDS = env_int("CLAMD_TIMEOUT_SECONDS", 30)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# Every form: specific error messages, "Choose ..." first options, "(optional)" labels (hjp/core/forms.py).
FORM_RENDERER = "hjp.core.forms.FormRenderer"

# Content Security Policy: nothing inline without a nonce, nothing from another origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Email (Django 6.1 MAILERS): to the console unless EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
# Seconds an SMTP connect or reply may take before the send fails (Django's default is to wait for ever).
# Named apart from Django's deprecated EMAIL_TIMEOUT setting, which may not be set beside MAILERS.
NOTIFICATION_EMAIL_TIMEOUT_SECONDS = env_int("EMAIL_TIMEOUT", 10)
if EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": NOTIFICATION_EMAIL_TIMEOUT_SECONDS,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
del EMAIL_HOST
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "hjp <no-reply@hjp.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address that emails link to; emails carry no patient details, only this link to sign in.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The patient's own link (outcomes.patient_voice): how long it works, and GOV.UK Notify for text messages. The
# base URL is Notify's own unless set (tests point it at a fake Notify on loopback); without NOTIFY_API_KEY a
# text message cannot be sent (the link is marked failed, and email still works).
PATIENT_LINK_DAYS = env_int("PATIENT_LINK_DAYS", 14)
NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
NOTIFY_SMS_TEMPLATE_ID = os.environ.get("NOTIFY_SMS_TEMPLATE_ID", "")

# Celery: a real broker when REDIS_URL is set; otherwise tasks run in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache every web process shares: Redis when REDIS_URL is set (production requires it), else this process's
# memory (`make run`: one process). hjp keeps nothing in it that must outlive or be shared by a process yet:
# sessions, sign-in failures, reset limits and second-factor throttles are in the database.
# A Redis that accepts connections and stops answering must not hold a web worker until gunicorn kills it: the
# connection and each command have a time limit (seconds; redis-py has none by default).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": env_int("CACHE_CONNECT_TIMEOUT", 2),
                "socket_timeout": env_int("CACHE_SOCKET_TIMEOUT", 5),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 90)
# Redis hands a task that was not acknowledged back to another worker after this long (kombu's default is an
# hour). Tasks acknowledge late and a retry waits for its countdown unacknowledged, so this must exceed the
# longest retry countdown plus the task time limit (retry_backoff_max=600 + 120), or a waiting retry would run twice.
NOTIFICATION_RETRY_BACKOFF_SECONDS = env_int("NOTIFICATION_RETRY_BACKOFF_SECONDS", 5)  # the first retry's countdown
NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS = 600  # the longest countdown of an email retry (hjp.notifications.tasks)
_VISIBILITY_FLOOR = NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS + CELERY_TASK_TIME_LIMIT
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", _VISIBILITY_FLOOR + 180)}
if CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= _VISIBILITY_FLOOR:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT must exceed {_VISIBILITY_FLOOR} s (the longest retry countdown plus "
        "CELERY_TASK_TIME_LIMIT), or a retry waiting out its countdown would run twice."
    )
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection around every task unless this is set; hjp/celery.py
# applies Django's own rule instead (CONN_MAX_AGE, health checks), and the fixup still reopens it every 1000 tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = TIME_ZONE

# The outbox: messages not delivered after the grace period are handed to Celery again by the sweep.
NOTIFICATION_SWEEP_SECONDS = env_int("NOTIFICATION_SWEEP_SECONDS", 120)
NOTIFICATION_SWEEP_GRACE_SECONDS = env_int("NOTIFICATION_SWEEP_GRACE_SECONDS", 60)
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 8)
# A delivery task takes along up to this many messages waiting in the outbox (its own included): one commit per
# batch, one connection to the mail server. A worker killed mid-batch leaves up to this many emails "unknown".
NOTIFICATION_DELIVERY_BATCH = env_int("NOTIFICATION_DELIVERY_BATCH", 20)
# While a batch's emails go one after another, whether consent was withdrawn for any still to go is read again
# before a send once this long (seconds) has passed since the claim or the last look: one query however many
# emails a fast mail server takes in that time, and a stopped email never waits longer than this plus one send.
NOTIFICATION_STOP_RECHECK_SECONDS = 0.05
# An email left "sending" (its worker died while it talked to the mail server) is marked "unknown: needs
# checking" once older than the email timeout plus this margin. The margin covers a slow conversation
# (each SMTP step may take the timeout) up to the task's hard time limit, after which no worker is still on it.
NOTIFICATION_SENDING_MARGIN_SECONDS = env_int("NOTIFICATION_SENDING_MARGIN_SECONDS", CELERY_TASK_TIME_LIMIT)
# Webhooks (API clients' subscriptions to their Tasks): seconds a connect or the answer may take, and whether a
# plain http:// endpoint on loopback is accepted (DEBUG and the tests only; production takes https:// alone).
NOTIFICATION_WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT", 5)
WEBHOOK_ALLOW_HTTP_LOOPBACK = DEBUG
# When the periodic feedback jobs run (server time, Europe/London).
DIGEST_DAY_OF_MONTH = env_int("DIGEST_DAY_OF_MONTH", 1)
DIGEST_HOUR = env_int("DIGEST_HOUR", 7)
REMINDER_HOUR = env_int("REMINDER_HOUR", 7)
# How long a download link for a partner provider outside hjp stays valid (referrals.services.handover).
HANDOVER_LINK_DAYS = env_int("HANDOVER_LINK_DAYS", 7)
# Fetching an Open Referral UK feed (casework.oruk): give up after this many seconds.
ORUK_FEED_TIMEOUT_SECONDS = env_int("ORUK_FEED_TIMEOUT_SECONDS", 15)
# A feed address a supervisor types is fetched by the server: only public addresses, unless this is set (a feed on
# the organisation's own network; the tests' feed on loopback).
ORUK_FEED_ALLOW_PRIVATE_ADDRESSES = env_bool("ORUK_FEED_ALLOW_PRIVATE_ADDRESSES", False)
# When the daily summaries of the inbox go to the users who chose one (hjp.notifications.services.daily_summaries_send).
DAILY_SUMMARY_HOUR = env_int("DAILY_SUMMARY_HOUR", 7)
# Beat reads the periodic jobs from the database (hjp.core.PeriodicJob, edited in the admin), each run claimed
# once per due time, so a second beat started by mistake runs nothing twice.
CELERY_BEAT_SCHEDULER = "hjp.core.scheduler:DatabaseScheduler"
# The jobs a new installation starts with: the migration core.0002 copies them (with the values of the settings
# above when it runs) into the database, where admins edit them. Beat does not read this dictionary.
CELERY_BEAT_SCHEDULE = {
    "sweep-undelivered-messages": {
        "task": "hjp.notifications.tasks.sweep_undelivered",
        "schedule": NOTIFICATION_SWEEP_SECONDS,
    },
    "monthly-digests": {
        "task": "outcomes.tasks.send_monthly_digests",
        "schedule": crontab(minute=0, hour=DIGEST_HOUR, day_of_month=DIGEST_DAY_OF_MONTH),
    },
    # The running totals of the dashboard's figures: whatever a broker outage left pending (outcomes.running_figures).
    "refresh-figures": {
        "task": "outcomes.tasks.refresh_figures",
        "schedule": 60,
    },
    "daily-reminders": {
        "task": "outcomes.tasks.send_daily_reminders",
        "schedule": crontab(minute=0, hour=REMINDER_HOUR),
    },
    "purge-password-reset-requests": {
        "task": "hjp.accounts.tasks.purge_password_reset_requests",
        "schedule": crontab(minute=40, hour=3),
    },
    # Handovers to providers' FHIR servers whose send was never enqueued or whose retry was lost (api.fhir.partners).
    "sweep-partner-sends": {
        "task": "api.tasks.sweep_partner_sends",
        "schedule": 300,
    },
    # The API's idempotency records past their 24 hours (api.idempotency), with the responses they kept.
    "purge-idempotency-records": {
        "task": "api.tasks.purge_idempotency_records",
        "schedule": crontab(minute=50, hour=3),
    },
    "purge-submission-tokens": {
        "task": "hjp.core.tasks.purge_submission_tokens",
        "schedule": crontab(minute=30, hour=3),
    },
    # Private files an erasure unlinked that the storage failed to delete after commit (hjp.core.file_deletions).
    "delete-stored-files": {
        "task": "hjp.core.tasks.delete_stored_files",
        "schedule": 600,
    },
    # One email a day instead of one a message, for the users who chose it: yesterday's inbox, counted.
    "daily-summaries": {
        "task": "hjp.notifications.tasks.send_daily_summaries",
        "schedule": crontab(minute=15, hour=DAILY_SUMMARY_HOUR),
    },
    # 90 and 30 days before a funding period or a partnership ends: its managers and supervisors are told.
    "funding-alerts": {
        "task": "hjp.accounts.tasks.send_funding_alerts",
        "schedule": crontab(minute=30, hour=7),
    },
    # Each partnership's retention period (Partnership.retention_years): anonymise what outlived it, and drafts
    # abandoned for DRAFT_RETENTION_DAYS.
    "anonymise-expired-records": {
        "task": "referrals.tasks.anonymise_expired_records",
        "schedule": crontab(minute=0, hour=2),
    },
}

# A draft referral nobody sent within this many days of its last save is discarded and anonymised by the retention
# run (referrals.services.retention): it holds a patient's details that were never shared with anyone.
DRAFT_RETENTION_DAYS = env_int("DRAFT_RETENTION_DAYS", 28)

# The API for systems (api/): OAuth 2.0 client credentials only (django-oauth-toolkit; each Application is an
# api.ApiClient's, confidential, grant "client-credentials"), bearer tokens valid for API_TOKEN_SECONDS, a token's
# scopes at most its client's. Every view authenticates by bearer token alone, needs a scope and is rate limited
# per client (API_RATE_LIMIT, counted in the shared cache: Redis in production).
API_SCOPES = {
    "referrals:read": "Read the referrals the client's organisation may see",
    "referrals:write": "Submit referrals (health organisations)",
    "cases:write": "Accept, decline and move referrals and cases (advice organisations)",
}
# django-oauth-toolkit's own Application model (named, so api.ApiClient's migration can depend on it).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER = {
    # oauthlib's server with the client-credentials grant alone: no password, code or implicit grant to try.
    "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.BackendApplicationServer",
    "SCOPES": API_SCOPES,
    "DEFAULT_SCOPES": list(API_SCOPES),
    "SCOPES_BACKEND_CLASS": "api.oauth.ClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "api.oauth.ClientValidator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("API_TOKEN_SECONDS", 60 * 60),
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["client_credentials"],
    # The OAuth 2.0 Security Best Current Practice (RFC 9700) throughout, so `check --deploy` is clean: tokens only in
    # the Authorization header, never in a URL, and kept hashed (the token column is blank); the gates of the
    # grants and redirects hjp does not offer closed as well.
    **{
        f"COMPLIANT_BCP_RFC9700_{gate}": True
        for gate in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    },
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ClientAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": os.environ.get("API_RATE_LIMIT", "600/minute")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "hjp API for systems",
    "DESCRIPTION": "Referrals from health services to welfare rights advice, for GP systems, hospital EPRs and "
    "advice services' own systems. Authenticate with OAuth 2.0 client credentials at /oauth/token/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "referrals.models.ReferralStatus",
        "DeclineReasonEnum": "referrals.models.DeclineReason",
    },
}

# Operations (hjp/operations): /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>", and not at all
# without one. Logs: one line per record, "text" for people or "json" for a log pipeline (production's default),
# each with the request id; the access log line names the route and the user's id, never a path or form data.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be at least 32 characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')."
    )
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")


def logging_config(log_format: str) -> dict:
    if log_format not in ("text", "json"):
        raise ImproperlyConfigured(f'LOG_FORMAT must be "text" or "json", not {log_format!r}')
    formatters = {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            # Django's request logger hands over the request itself, whose repr holds the query string.
            "reserved_attrs": [*RESERVED_ATTRS, "request"],
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "hjp.operations.requests.RequestIdFilter"}},
        "formatters": {log_format: formatters[log_format]},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format, "filters": ["request_id"]}},
        "root": {"handlers": ["console"], "level": LOG_LEVEL},
        # WeasyPrint logs every step of every PDF (the funder report) at INFO: only its warnings are news.
        "loggers": {"weasyprint": {"level": "WARNING"}},
    }


LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = logging_config(LOG_FORMAT)
# Workers log through LOGGING too (the same format, with the id of the request that enqueued each task).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
