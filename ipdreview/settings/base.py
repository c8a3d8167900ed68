"""Settings shared by every environment, read from the environment.

Without DATABASE_URL the app runs on SQLite in var/; without REDIS_URL Celery tasks run in-process.
"""

import datetime
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# Off unless asked for: `make run` sets DJANGO_DEBUG=1 itself (scripts/run-dev.sh).
DEBUG = env_bool("DJANGO_DEBUG", default=False)
# A fixed key is fine for local development only; production.py refuses to start without its own.
SECRET_KEY = env("DJANGO_SECRET_KEY", "development-only-key-not-secret-ipd-review-0123456789")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.core",
    "apps.accounts",
    "apps.reviews",
    "apps.trials",
    "apps.jobs",
    "apps.datasets",
    "apps.harmonisation",
    "apps.checks",
    "apps.analyses",
    "apps.reporting",
    "apps.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "apps.accounts.middleware.SessionRenewalMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.core.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the lockout flag a refused login left on the request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ipdreview.urls"
WSGI_APPLICATION = "ipdreview.wsgi.application"
ASGI_APPLICATION = "ipdreview.asgi.application"

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
            ],
        },
    },
]

if not env("DATABASE_URL"):
    # The embedded default: SQLite in var/, created on first use.
    (BASE_DIR / "var").mkdir(exist_ok=True)

# The development server serves each request in a thread of its own: a connection kept open past the request
# would stay behind with its thread, so under runserver every request closes its own. Elsewhere (gunicorn's
# workers) connections are kept for DATABASE_CONN_MAX_AGE seconds and checked before reuse, so that a
# database restart costs no request once the server is back.
RUNNING_DEVSERVER = len(sys.argv) > 1 and sys.argv[1] == "runserver"
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=0 if RUNNING_DEVSERVER else int(env("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses any password, right or wrong, while the account or the address is locked out.
AUTHENTICATION_BACKENDS = [
    "apps.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
# A page session ends after SESSION_IDLE_SECONDS without a request, and when the browser closes. A request
# renews it, saving it at most once a minute (apps.accounts.middleware).
SESSION_COOKIE_AGE = int(env("SESSION_IDLE_SECONDS", str(8 * 3600)))
SESSION_RENEW_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LANGUAGE_CODE = "en-gb"
FORMAT_MODULE_PATH = ["ipdreview.formats"]  # one way to write dates and times everywhere
TIME_ZONE = env("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "apps.core.staticfiles.PackageFileFinder",
]
# Files served from installed packages (no CDN): plotly.js at the version of the installed plotly.
STATIC_PACKAGE_FILES = {"vendor/plotly.min.js": ("plotly", "package_data/plotly.min.js")}
# MEDIA_ROOT must be a disk shared by web and workers when they run on different machines.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Uploaded participant files and their parsed tables, stored by content hash; swap the backend for a
    # shared or object store when web and workers run on different machines. Kept outside MEDIA_ROOT, so no
    # media URL can ever reach them: they are read only through the access-checked views.
    "datasets": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env("DATASET_STORAGE_ROOT", str(BASE_DIR / "var" / "datasets"))},
    },
}

# E-mail: console in development; set DJANGO_EMAIL_BACKEND and the EMAIL_* variables for SMTP.
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "IPD Review <ipd-review@localhost>")

# Celery: Redis when configured, otherwise tasks run in the calling process.
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # OPTIONS names the endpoint and its formats; it never builds serializers or looks objects up.
    "DEFAULT_METADATA_CLASS": "apps.core.metadata.EndpointMetadata",
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.exception_handler.api_exception_handler",
    "DATE_INPUT_FORMATS": ["iso-8601"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "IPD Review API",
    "DESCRIPTION": (
        "Tracking of trials, participant data, harmonisation, integrity checks and pooled analyses for IPD "
        "meta-analyses."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "TrialStatusEnum": "apps.trials.lifecycle.Status",
        "ExitReasonEnum": "apps.trials.lifecycle.ExitReason",
        "AgreementStatusEnum": "apps.trials.models.AgreementStatus",
        "ContactRoleEnum": "apps.trials.models.ContactRole",
        "ReviewStatusEnum": "apps.reviews.models.ReviewStatus",
        "MemberRoleEnum": "apps.accounts.models.Role",
        "MappingRuleStatusEnum": "apps.harmonisation.models.MappingRuleStatus",
        "CheckStatusEnum": "apps.checks.models.CheckStatus",
        "FindingStatusEnum": "apps.checks.models.FindingStatus",
        "DatasetVersionStatusEnum": "apps.datasets.models.VersionStatus",
        "DictionaryTypeEnum": "apps.datasets.models.VariableType",
        "JobStateEnum": "apps.jobs.models.JobState",
        "AnalysisRunKindEnum": "apps.analyses.models.RunKind",
        "AnalysisApproachEnum": "apps.analyses.models.Approach",
        "Tau2MethodEnum": "apps.analyses.models.Tau2Method",
        "IntervalMethodEnum": "apps.analyses.models.IntervalMethod",
        "AnalysisTrialSetEnum": "apps.analyses.models.TrialSet",
    },
}

# API tokens (django-rest-knox): stored hashed, valid API_TOKEN_TTL_HOURS from login, revoked on logout, on a
# password change and when the user is removed from a review. Sent as `Authorization: Token <token>`.
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(hours=float(env("API_TOKEN_TTL_HOURS", "10"))),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,
}

# Days an invitation to a review stays open.
INVITATION_VALID_DAYS = int(env("INVITATION_VALID_DAYS", "14"))

# The client's address comes from X-Forwarded-For only when the request arrives from one of these proxies
# (addresses or networks, e.g. "172.18.0.0/16"); otherwise it is the connection's own address.
TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES")

# Password attempts (django-axes): after AXES_FAILURE_LIMIT failures for one account, or from one address,
# every attempt for it is refused for AXES_COOLOFF_MINUTES, the right password included. Attempts and
# lockouts are recorded in the database (admin: Axes).
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=float(env("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "apps.core.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "apps.accounts.views.lockout_response"
# Kept on success: a login to one account must not wipe the failures counted against another from that address.
AXES_RESET_ON_SUCCESS = False
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True

# Password attempts per client address: the API's token endpoint and the login page.
API_TOKEN_THROTTLE_RATE = env("API_TOKEN_THROTTLE_RATE", "10/min")
LOGIN_THROTTLE_RATE = env("LOGIN_THROTTLE_RATE", "10/min")
# The rate limits count in the cache: Redis when configured, so every web process shares the counts.
CACHES = {
    "default": (
        {
            # Fails open: with Redis out of reach the pages are rendered afresh instead of failing.
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 2},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Where `manage.py verify_storage` (weekly by beat) finds the stored files and their recorded SHA-256.
VERIFY_STORAGE_SOURCES = [
    "apps.datasets.stored_files.uploads",
    "apps.harmonisation.stored_files.harmonised_tables",
]

# Largest data-sharing agreement document accepted (PDF or office document).
AGREEMENT_MAX_DOCUMENT_BYTES = int(env("AGREEMENT_MAX_DOCUMENT_BYTES", str(20 * 1024 * 1024)))

# Days ahead at which agreements and approvals are flagged as expiring.
IPD_EXPIRY_WARNING_DAYS = int(env("IPD_EXPIRY_WARNING_DAYS", "90"))

# Long jobs: a running job beats every JOBS_HEARTBEAT_SECONDS; one silent for JOBS_STALE_AFTER_SECONDS is
# requeued (or failed after its last attempt) by the jobs_reap_stale beat task.
JOBS_HEARTBEAT_SECONDS = float(env("JOBS_HEARTBEAT_SECONDS", "10"))
JOBS_STALE_AFTER_SECONDS = float(env("JOBS_STALE_AFTER_SECONDS", "300"))
# How often beat runs the reaper (also read by ipdreview/celery.py for the schedule).
JOBS_REAP_EVERY_SECONDS = float(env("JOBS_REAP_EVERY_SECONDS", "60"))
# A job still queued after this long (its broker message lost) is sent again by the reaper.
JOBS_RESEND_QUEUED_AFTER_SECONDS = float(env("JOBS_RESEND_QUEUED_AFTER_SECONDS", "900"))
# Workers (and the parse's children) run without transparent huge pages unless this is set: see apps/jobs/memory.py.
JOBS_TRANSPARENT_HUGE_PAGES = env_bool("JOBS_TRANSPARENT_HUGE_PAGES", default=False)

# Participant data uploads and their parsing.
DATASET_MAX_UPLOAD_BYTES = int(env("DATASET_MAX_UPLOAD_BYTES", str(500 * 1024 * 1024)))
DATASET_MAX_ROWS = int(env("DATASET_MAX_ROWS", "5000000"))
DATASET_MAX_COLUMNS = int(env("DATASET_MAX_COLUMNS", "2000"))
DATASET_PARSE_TIME_LIMIT_SECONDS = int(env("DATASET_PARSE_TIME_LIMIT_SECONDS", "1800"))
# Extra memory a parse may take on top of the worker's own; above it the job fails instead of the machine.
DATASET_PARSE_MEMORY_MB = int(env("DATASET_PARSE_MEMORY_MB", "3072"))
DATASET_XLSX_MAX_UNCOMPRESSED_BYTES = int(env("DATASET_XLSX_MAX_UNCOMPRESSED_BYTES", str(1024 * 1024 * 1024)))
# A workbook part (over 1 MB) that unpacks to more than this many times its packed size is refused: real sheets
# pack 5-20 times, zip bombs about 1,000 times.
DATASET_XLSX_MAX_RATIO = float(env("DATASET_XLSX_MAX_RATIO", "100"))
# A queue for parse jobs instead of the routed `ingest` one, to give a set of workers (or a test) its own.
DATASET_PARSE_QUEUE = env("DATASET_PARSE_QUEUE")

# Harmonisation (apply) and integrity-check jobs: their time limits, and a queue to give a set of workers
# (or a test) their own; by default they follow the routes in ipdreview/celery.py.
HARMONISE_QUEUE = env("HARMONISE_QUEUE", "ingest")
HARMONISE_TIME_LIMIT_SECONDS = int(env("HARMONISE_TIME_LIMIT_SECONDS", "1800"))
CHECKS_QUEUE = env("CHECKS_QUEUE")
CHECKS_TIME_LIMIT_SECONDS = int(env("CHECKS_TIME_LIMIT_SECONDS", "1800"))
ANALYSIS_QUEUE = env("ANALYSIS_QUEUE")
ANALYSIS_TIME_LIMIT_SECONDS = int(env("ANALYSIS_TIME_LIMIT_SECONDS", "1800"))
# Standardised differences of baseline covariates between arms: over the first a warning, over the second a
# failure, which holds the trial back from "data checked" until it is resolved.
CHECKS_SMD_WARNING = float(env("CHECKS_SMD_WARNING", "0.1"))
CHECKS_SMD_FAIL = float(env("CHECKS_SMD_FAIL", "0.5"))
if not 0 < CHECKS_SMD_WARNING < CHECKS_SMD_FAIL:
    raise ImproperlyConfigured("CHECKS_SMD_WARNING must be above 0 and below CHECKS_SMD_FAIL.")
# The Chromium that plotly's exporter (kaleido) drives to draw the report's forest plots; empty: no images.
REPORT_CHROMIUM_PATH = env("REPORT_CHROMIUM_PATH", "/usr/bin/chromium")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
}
