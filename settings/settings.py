"""Django settings, driven entirely by the environment (see .env_example)."""

from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY (a long random string, e.g. from "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`); "
            "only DJANGO_DEBUG=true runs without one."
        )
    SECRET_KEY = "insecure-key-for-debug-only"  # noqa: S105  (DEBUG only)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = [o for o in env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[]) if o]

# HTTPS. Secure by default with DEBUG off: the service expects a TLS-terminating proxy in
# front (see the README's Security section). Every setting can be changed from the
# environment, e.g. DJANGO_SECURE_SSL_REDIRECT=false for a try-out over plain
# http://localhost.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# The probes and /metrics answer over plain HTTP inside the deployment (health checks,
# scrapers).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# "HTTP_X_FORWARDED_PROTO,https": trust this header from the proxy for request.is_secure().
# Set it only when a proxy in front always sets (or strips) the header.
_proxy_ssl_header = env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if len(_proxy_ssl_header) == 2 else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's and ReDoc's files, served from the app's static files (no CDN).
    "drf_spectacular_sidecar",
    "rest_framework_api_key",
    "djmoney",
    "django_prometheus",
    # Only the ledger's first migrations use django-pgtrigger; its triggers are now plain SQL.
    "pgtrigger",
    "common",
    "accounting",
    "organizations",
    "webhooks",
    "bankstatements",
    "reconciliation",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "common.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The admin in the user's language (Accept-Language, or LANGUAGE_CODE); the API stays
    # English (common/i18n.py).
    "django.middleware.locale.LocaleMiddleware",
    "common.i18n.ApiInEnglishMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# The machine-to-machine endpoints need none of the session, user, messages, CSRF or
# static-file middleware: under the WSGI server their requests go through this list only
# (common/handlers.py). It keeps the request id, the HTTPS rules, the host check and the
# request metrics (django-prometheus's pair, first and last as in MIDDLEWARE).
API_MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "common.observability.RequestIdMiddleware",
    "common.i18n.ApiInEnglishMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
API_MIDDLEWARE_PATHS = ["/api/v1/webhook/bank/", "/api/v1/organizations/"]

ROOT_URLCONF = "settings.urls"
WSGI_APPLICATION = "settings.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL is the only supported engine: the ledger's invariants are enforced by its
# constraints and triggers. `python3 dev.py` starts an embedded server and sets
# DATABASE_URL when none is given.
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/bank_webhook"
    ),
}
# django-prometheus's wrapper of Django's PostgreSQL backend counts connections, queries and
# their duration for /metrics.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# Off by default: a check costs a round trip per request; a connection found broken fails one
# request (503, which the bank retries) and is replaced.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False)
# Let PostgreSQL notice a vanished client (a killed worker) even while its query waits on a
# lock, so its transaction is rolled back and its locks released promptly (PostgreSQL 14+).
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "options", "-c client_connection_check_interval=1000"
)
# How long a statement may wait for a lock before it fails (PostgreSQL's lock_timeout, in ms;
# 0: as long as it takes). `bin/service web` sets it from WEB_DATABASE_LOCK_TIMEOUT_MS for
# the web processes only, so that a webhook blocked by another session's long lock is
# answered 503 with Retry-After (which the bank retries) well within gunicorn's worker
# timeout instead of holding the worker; the Celery worker and migrations wait.
DATABASE_LOCK_TIMEOUT_MS = env.int("DATABASE_LOCK_TIMEOUT_MS", default=0)
if DATABASE_LOCK_TIMEOUT_MS > 0:
    DATABASES["default"]["OPTIONS"]["options"] += f" -c lock_timeout={DATABASE_LOCK_TIMEOUT_MS}"
# The role the service connects as (DATABASE_URL) is granted exactly what it needs after
# every migrate (common/roles.py), by the owner that runs the migrations: bin/service
# prepare migrates as DATABASE_OWNER_URL and sets DATABASE_APP_ROLE to DATABASE_URL's user.
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="")
# With DEBUG off, `manage.py check --database default` (run by bin/service prepare) refuses a
# superuser connection unless this is set (development only).
DATABASE_ALLOW_SUPERUSER = env.bool("DATABASE_ALLOW_SUPERUSER", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The admin's language when the browser asks for none of LANGUAGES; the accountants read
# Russian. The API's messages are English whatever this says (common/i18n.py).
LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="ru")
LANGUAGES = [("ru", "Русский"), ("en", "English")]
# The project's own translations; Django's admin brings its own.
LOCALE_PATHS = [BASE_DIR / "locale"]
# Accountants' days (statements, trial balance, reconciliation periods, beat's crontab).
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True
# Amounts as the language writes them: 1 500,00 in Russian, 1,500.00 in English.
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
# Serve static files straight from the apps (no collectstatic), e.g. for a test server.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Money.
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="RUB")
CURRENCIES = (DEFAULT_CURRENCY,)

# Webhook intake. Deliveries must be signed with one of WEBHOOK_SECRETS (comma-separated:
# more than one while a secret is rotated); with DEBUG off the service refuses to start
# without one, unless WEBHOOK_ALLOW_UNSIGNED=true (development only).
WEBHOOK_SECRETS = [s for s in env.list("WEBHOOK_SECRETS", default=[]) if s]
WEBHOOK_ALLOW_UNSIGNED = env.bool("WEBHOOK_ALLOW_UNSIGNED", default=False)
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=64 * 1024)
# Seconds any request waits for the next bytes of its body under gunicorn before it is
# answered 408 (a client that sends less than its Content-Length, or stalls); below
# gunicorn's --timeout (30 s), so the worker answers instead of being killed mid-request.
REQUEST_BODY_READ_TIMEOUT_SECONDS = env.float("REQUEST_BODY_READ_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = env.int("WEBHOOK_SIGNATURE_TOLERANCE_SECONDS", default=300)
# Source networks the bank delivers from (CIDRs, comma-separated); empty: any.
WEBHOOK_ALLOWED_NETWORKS = [n for n in env.list("WEBHOOK_ALLOWED_NETWORKS", default=[]) if n]
# Proxies in front of the service (CIDRs) whose X-Forwarded-For names the client.
TRUSTED_PROXIES = [n for n in env.list("TRUSTED_PROXIES", default=[]) if n]
# Rejected deliveries (bad signature, size, type) a source may cause before it is answered
# 429 without being recorded; signed deliveries are never throttled.
WEBHOOK_REJECTED_RATE = env.str("WEBHOOK_REJECTED_RATE", default="60/min")
# Rejected deliveries are kept this long, then removed by a beat task; booked, duplicate
# and conflict deliveries are kept forever.
REJECTED_DELIVERY_RETENTION_DAYS = env.int("REJECTED_DELIVERY_RETENTION_DAYS", default=90)
# The largest amount one payment may have; above it a delivery is a recorded 400.
PAYMENT_MAX_AMOUNT = Decimal(env.str("PAYMENT_MAX_AMOUNT", default="1000000000.00"))
if not PAYMENT_MAX_AMOUNT.is_finite() or not 0 < PAYMENT_MAX_AMOUNT <= Decimal(
    "9999999999999999.99"
):
    raise ImproperlyConfigured(
        "PAYMENT_MAX_AMOUNT must be a positive amount of at most 9999999999999999.99."
    )

# Reads of balances and statements need an API key (Authorization: Bearer <key>), issued in
# the admin; API_AUTH_REQUIRED=false opens them (development only).
API_AUTH_REQUIRED = env.bool("API_AUTH_REQUIRED", default=True)
# Per API key, on the Django cache (redis-cache in compose).
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="6000/min")

# The bank imitation (/swagger/webhook/bank/imitation/): off unless enabled; it signs with
# the first of WEBHOOK_SECRETS, so only users with its own permission may use it.
BANK_IMITATION_ENABLED = env.bool("BANK_IMITATION_ENABLED", default=False)
# x-bank (X-Bank-Timestamp, X-Bank-Signature) or standard (Standard Webhooks headers).
BANK_IMITATION_SIGNATURE_SCHEME = env.str("BANK_IMITATION_SIGNATURE_SCHEME", default="x-bank")
BANK_IMITATION_WEBHOOK_URL = env.str(
    "BANK_IMITATION_WEBHOOK_URL", default="http://127.0.0.1:8000/api/v1/webhook/bank/"
)
BANK_IMITATION_MAX_ATTEMPTS = env.int("BANK_IMITATION_MAX_ATTEMPTS", default=5)
BANK_IMITATION_BACKOFF_SECONDS = env.float("BANK_IMITATION_BACKOFF_SECONDS", default=0.5)
BANK_IMITATION_TIMEOUT = env.float("BANK_IMITATION_TIMEOUT", default=10.0)

# Bank statements (1CClientBankExchange): the service's own account, 20 digits; statements of
# any other account are refused. With auto-booking, lines no webhook told of are booked at
# import.
BANK_ACCOUNT_NUMBER = env.str("BANK_ACCOUNT_NUMBER", default="40702810900000000001")
BANK_STATEMENT_AUTO_BOOK = env.bool("BANK_STATEMENT_AUTO_BOOK", default=False)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["common.api.DecimalJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["common.api.DecimalJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    # Closed unless a view says otherwise: every API view declares who may call it (the
    # webhook checks its signature, the reads their API key, the imitation staff).
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": API_THROTTLE_RATE,
        "rejected_source": WEBHOOK_REJECTED_RATE,
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Bank webhook ledger API",
    "DESCRIPTION": (
        "Receives payment webhooks from the bank, books each payment exactly once in a "
        "double-entry ledger and serves organizations' balances. Amounts are JSON numbers "
        "with at most two decimal places, never rounded through floating point."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.openapi.links_add",
    ],
    # From drf-spectacular-sidecar's static files, so the pages work on an offline network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# GET /metrics (Prometheus text format, common/metrics.py): open to a bearer token or to
# client addresses in the networks (CIDRs); with neither set it answers 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = [n for n in env.list("METRICS_ALLOWED_NETWORKS", default=[]) if n]
PROMETHEUS_EXPORT_MIGRATIONS = False

# Error tracking (common/error_tracking.py): Sentry's Django and Celery integrations, only
# when SENTRY_DSN is set; events carry the request id, and no personal data.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if not 0.0 <= SENTRY_TRACES_SAMPLE_RATE <= 1.0:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1.")
if SENTRY_DSN:
    from common.error_tracking import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

# Files (reconciliation reports). S3-compatible storage (MinIO in compose) when a bucket is
# configured, local files under var/media otherwise. Objects are private: the admin serves
# them to staff, and S3 URLs are signed and expire.
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="us-east-1"),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 600,
            "signature_version": "s3v4",
            "file_overwrite": False,
            "location": env.str("AWS_LOCATION", default="reports"),
        },
    }
else:
    STORAGES["default"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }

# Celery. Without CELERY_BROKER_URL, kombu's filesystem transport under var/celery: a broker
# that needs no server of its own. Tasks are acknowledged after they run (acks_late) and
# requeued if their worker dies, so every task is idempotent.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(
        env.str("CELERY_FILESYSTEM_BROKER_DIR", default=str(BASE_DIR / "var" / "celery"))
    )
    # The folders are created by the Celery app when it is configured (settings/celery.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Seconds before a message taken by a worker that vanished is delivered again.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        # Publishing gives up quickly when the broker is down (see CELERY_TASK_PUBLISH_RETRY).
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
    # Redis channels that outlive a lost connection still reach Redis once it is back, so the
    # worker reconnects instead of stopping (common/celery_redis.py).
    if CELERY_BROKER_URL.startswith("redis://"):
        CELERY_BROKER_TRANSPORT = "common.celery_redis:Transport"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# A webhook's on-commit publish must not hold its response when the broker is down: one
# attempt, then the periodic sweep dispatches what was left behind.
CELERY_TASK_PUBLISH_RETRY = False

BALANCE_FOLD_INTERVAL_SECONDS = env.float("BALANCE_FOLD_INTERVAL_SECONDS", default=5.0)
BALANCE_CHANGE_SWEEP_INTERVAL_SECONDS = env.float(
    "BALANCE_CHANGE_SWEEP_INTERVAL_SECONDS", default=30.0
)
# Each web process queues at most one immediate and one delayed dispatch per interval.
BALANCE_CHANGE_PUBLISH_INTERVAL_SECONDS = env.float(
    "BALANCE_CHANGE_PUBLISH_INTERVAL_SECONDS", default=1.0
)
# A journal day is closed (its totals per account final, reports and statements reading
# them) this long after it ends, so that bookings still in flight when it ended commit.
JOURNAL_DAY_CLOSE_AFTER_SECONDS = env.int("JOURNAL_DAY_CLOSE_AFTER_SECONDS", default=3600)
# Crontab fields: minute hour day_of_month month_of_year day_of_week.
RECONCILIATION_SCHEDULE = env.str("RECONCILIATION_SCHEDULE", default="30 2 * * *")
REJECTED_DELIVERY_PURGE_SCHEDULE = env.str("REJECTED_DELIVERY_PURGE_SCHEDULE", default="15 3 * * *")


def _crontab(spec: str):
    from celery.schedules import crontab

    minute, hour, day_of_month, month_of_year, day_of_week = spec.split()
    return crontab(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
    )


CELERY_BEAT_SCHEDULE = {
    "fold-balance-deltas": {
        "task": "accounting.tasks.account_balances_fold_task",
        "schedule": BALANCE_FOLD_INTERVAL_SECONDS,
        "options": {"expires": BALANCE_FOLD_INTERVAL_SECONDS * 2},
    },
    "sweep-balance-changes": {
        "task": "accounting.tasks.balance_changes_dispatch_task",
        "schedule": BALANCE_CHANGE_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": BALANCE_CHANGE_SWEEP_INTERVAL_SECONDS * 2},
    },
    "rematch-open-statement-lines": {
        "task": "bankstatements.tasks.statements_rematch_open_task",
        "schedule": env.float("BANK_STATEMENT_REMATCH_INTERVAL_SECONDS", default=60.0),
        "options": {"expires": 120},
    },
    "close-journal-days": {
        "task": "accounting.tasks.journal_days_close_task",
        "schedule": 600.0,
        "options": {"expires": 600},
    },
    "purge-rejected-deliveries": {
        "task": "webhooks.tasks.rejected_deliveries_purge_task",
        "schedule": _crontab(REJECTED_DELIVERY_PURGE_SCHEDULE),
    },
    "daily-reconciliation": {
        "task": "reconciliation.tasks.reconciliation_report_create_for_yesterday_task",
        "schedule": _crontab(RECONCILIATION_SCHEDULE),
    },
}

# Logs: plain text by default, one JSON object per line with LOG_FORMAT=json (containers).
# Every record carries the request id (X-Request-Id) and the webhook's operation_id.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "common.observability.ContextFilter"},
        "idle_fold": {"()": "accounting.log_filters.IdleFoldFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s "
            "%(operation_id)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context"],
        }
    },
    # A fold that folded nothing is logged at DEBUG (Celery's lines about it every 5 s).
    "loggers": {
        name: {"filters": ["idle_fold"]}
        for name in ("celery.beat", "celery.worker.strategy", "celery.app.trace")
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
