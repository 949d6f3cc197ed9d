"""Django settings, driven entirely by the environment (see .env_example)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = [o for o in env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[]) if o]

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
    "djmoney",
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
    "common.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

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
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# Off by default: a check costs a round trip per request; a connection found broken fails one
# request (503, which the bank retries) and is replaced.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False)
# Let PostgreSQL notice a vanished client (a killed worker) even while its query waits on a
# lock, so its transaction is rolled back and its locks released promptly (PostgreSQL 14+).
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "options", "-c client_connection_check_interval=1000"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Accountants' days (statements, trial balance, reconciliation periods, beat's crontab).
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

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

# Webhook intake.
WEBHOOK_SECRET = env.str("WEBHOOK_SECRET", default="")
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=64 * 1024)
WEBHOOK_SIGNATURE_TOLERANCE_SECONDS = env.int("WEBHOOK_SIGNATURE_TOLERANCE_SECONDS", default=300)

# The bank imitation (/swagger/webhook/bank/imitation/) posts to this webhook URL.
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
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
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
}

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
    "BALANCE_CHANGE_PUBLISH_INTERVAL_SECONDS", default=0.25
)
# Crontab fields: minute hour day_of_month month_of_year day_of_week.
RECONCILIATION_SCHEDULE = env.str("RECONCILIATION_SCHEDULE", default="30 2 * * *")


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
    "filters": {"context": {"()": "common.observability.ContextFilter"}},
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
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
