"""Settings, read from the environment so one build runs as the demo, in tests and in production.

Environment:
    DATABASE_URL            any dj-database-url URL; the demo default is a SQLite file,
                            under pytest the default is the local PostgreSQL.
    DATABASE_REPLICA_URLS   comma-separated URLs of PostgreSQL streaming replicas of
                            it (default none: every read on the primary).
                            config/replicas.py, docs/deployment.md.
    READ_REPLICA_MAX_LAG_SECONDS  a replica further behind is not read (default 1).
    READ_REPLICA_CHECK_SECONDS  how often a server process asks a replica its lag
                            (default 0.5).
    READ_YOUR_WRITES_SECONDS  a client that wrote reads from the primary this long
                            after (default 5).
    READ_YOUR_WRITES_STORAGE_URL  the Redis where writes are noted for that (default
                            the broker's Redis).
    DATABASE_PREPARED_STATEMENTS  0 behind a pooler that cannot keep prepared
                            statements (default 1; docs/deployment.md).
    DJANGO_SECRET_KEY       required to serve with DJANGO_DEBUG off.
    DJANGO_DEBUG            1/true/yes to turn debug on (default off).
    DJANGO_ALLOWED_HOSTS    comma-separated host names (default localhost names).
    DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated origins, for a proxy in front.
    DJANGO_SECURE_COOKIES   send session and CSRF cookies over HTTPS only (default: not debug).
    DJANGO_HSTS_SECONDS     Strict-Transport-Security max-age, when TLS ends here (default 0:
                            the proxy in front owns HTTPS).
    DJANGO_STATIC_MANIFEST  serve collectstatic's hashed files (default: on unless debug or
                            tests; then run `manage.py collectstatic` before serving).
    DJANGO_STATIC_ROOT      where collectstatic writes (default the checkout's staticfiles/).
    CELERY_BROKER_URL       default redis://127.0.0.1:6379/0.
    CELERY_TASK_ALWAYS_EAGER  run tasks in-process (default off).
    CELERY_TASK_DEFAULT_QUEUE  the queue of jobs no setting routes (default celery).
    ONESTOCK_POS_DELAY_SECONDS  a store's availability reads "delayed" when its tills'
                            latest event is older than this (default 900).
    ONESTOCK_CLOCK_SKEW_SECONDS  how far in the future an event's occurred_at may be, for
                            clocks that run fast (default 300).
    COUNT_TOLERANCE_UNITS, COUNT_TOLERANCE_PERCENT  a cycle count within either is
                            accurate (default 0 and 0: exact).
    COUNT_CYCLE_DAYS        every SKU at a location is counted within this many days
                            (default 30).
    COUNT_NIGHTLY_SAMPLE    SKUs added to each location's nightly count beyond the
                            rotation, weighted to fast movers (default 10).
    SNAPSHOT_TOLERANCE_UNITS, SNAPSHOT_TOLERANCE_PERCENT  a channel's snapshot figure
                            within either agrees with the ledger (default 1 and 2).
    SNAPSHOT_CASES_MAX      cases raised per snapshot before one case sums up the
                            rest (default 100).
    RECONCILIATION_CHUNK_ROWS  snapshot rows compared per committed step (5000).
    RECONCILIATION_STALE_SECONDS  a running reconciliation silent this long was cut
                            off; the next start finishes it (default 600).
    RECONCILIATION_MAX_RESUMES  a run failing this often after resuming is abandoned
                            for a new one (default 3).
    RECONCILIATION_QUEUE    the Celery queue a run started on the screen goes to.
    SALES_RATE_DAYS         the trailing days of the dashboard's rate of sale (28).
    TRANSFER_SURPLUS_DAYS   a location whose stock outlasts this many days of its
                            rate of sale may send the rest to another (default 56).
    TRANSFER_SHORTAGE_DAYS  a location that runs out within this many days of its
                            rate of sale is proposed units from another (default 7).
    ONESTOCK_CURRENCY_SYMBOL  what the dashboard writes money with (£).
    ONESTOCK_TOKEN_CACHE_SECONDS  how long a server process keeps a live API token
                            before reading it again (default 5): a token revoked
                            elsewhere is refused everywhere within this time.
    LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_MINUTES  failed sign-ins from one address
                            before it waits, and how long (default 10 and 15).
    THROTTLE_TOKEN_FAILURES failed API tokens from one address before 429
                            (default 20/minute).
    THROTTLE_STORAGE_URL    where failed tokens are counted (default the broker's Redis).
    TRUSTED_PROXY_COUNT     proxies of ours in front, adding to X-Forwarded-For
                            (default 0: the client is REMOTE_ADDR).

Operability (docs/operations.md):
    LOG_FORMAT              json (one JSON object a line) or text (default json, text
                            with DJANGO_DEBUG on: the demo).
    DJANGO_LOG_LEVEL        default INFO.
    METRICS_TOKEN           /metrics answers a scraper sending it as a bearer token,
                            from any address (default empty: no token accepted).
    METRICS_ALLOWED_NETWORKS  comma-separated networks /metrics answers without a
                            token (default loopback only).
    PROMETHEUS_MULTIPROC_DIR  a folder shared by gunicorn's processes and the Celery
                            worker, where each writes its metrics (gunicorn.conf.py).
    WORKER_METRICS_PORT     a Celery worker on a machine without gunicorn serves its
                            own /metrics on this port (default 0: not served);
                            WORKER_METRICS_ADDRESS where it listens (127.0.0.1).
    SENTRY_DSN              errors go to Sentry when set (default off);
                            SENTRY_ENVIRONMENT names the deployment.
    DATABASE_CONNECT_TIMEOUT_SECONDS  how long a connection to the database may take
                            before the request is answered 503 (default 3).
    BROKER_TIMEOUT_SECONDS  how long a write may spend queueing a job on the broker
                            (default 0.5).
    BROKER_CIRCUIT_SECONDS  after the broker failed, nothing is queued on it for this
                            long; beat's sweeps deliver later (default 30).
    RETRY_AFTER_SECONDS     the Retry-After of a 503 while the database or the broker
                            cannot be reached (default 5).
"""

import os
import sys
import warnings
from pathlib import Path

import dj_database_url

from config.schema_enums import SCHEMA_ENUM_NAMES

BASE_DIR = Path(__file__).resolve().parent.parent

from config.env import TRUE_WORDS, env_bool, env_list  # noqa: E402, F401

RUNNING_TESTS = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY_FROM_ENV = bool(os.environ.get("DJANGO_SECRET_KEY"))
# Without DJANGO_SECRET_KEY, tooling (migrations, checks) still runs on a development
# key; `check --deploy` flags it (security.W009), and the WSGI/ASGI entry points refuse
# to serve with it unless debug is on (config/serving.py).
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    "django-insecure-development-key-never-used-to-serve-with-debug-off"
)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "axes",  # failed sign-ins (config/throttling.py)
    "csp",  # the Content-Security-Policy (config/content_policy.py)
    "catalog",
    "inventory",
    "integrations",
    "orders",
    "pickup",
    "returns",
    "reconciliation",
    "sync",
    "imports",
    "support",
    "demo",
    "simulation",
]

MIDDLEWARE = [
    # First: every request's id (X-Request-ID), on its log lines and its API errors.
    "config.middleware.RequestId",
    # Then each request's log line and metrics, timing everything inside.
    "config.middleware.RequestLog",
    # A view that cannot reach the database or the broker answers 503, Retry-After.
    "config.unavailable.AnswerUnavailable",
    # A write notes its client, whose reads then stay on the primary a few seconds
    # (only where read replicas are configured: config/replicas.py).
    "config.replicas.ReadYourWrites",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.RefuseNulCharacters",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # An API POST with an Idempotency-Key answers a retry with its first answer
    # (integrations/idempotency.py, docs/api.md).
    "integrations.idempotency.IdempotencyKeys",
    "config.middleware.MessagesForScreens",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # The Content-Security-Policy, on HTML answers only (config/content_policy.py).
    "config.content_policy.ContentSecurityPolicy",
    # Last, as django-axes asks: a locked-out sign-in becomes its 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            # Plain words on every screen: |who, |duration, |late_by, |ago.
            "builtins": ["config.plain_words"],
        },
    },
]

DEMO_DATABASE_URL = f"sqlite:///{BASE_DIR / 'demo.sqlite3'}"
TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/onestock"
DATABASE_URL = os.environ.get("DATABASE_URL") or (
    TEST_DATABASE_URL if RUNNING_TESTS else DEMO_DATABASE_URL
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django turns prepared statements off (for transaction poolers). The ORM's
    # cursors bind on the client and never prepare anyway; this lets the hold's
    # statements (inventory.services.promises) be planned once per connection, which
    # more than halves what the database spends on a hold.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
# Off for a connection pooler that cannot keep prepared statements (PgBouncer before
# 1.21 in transaction mode, docs/deployment.md): every statement planned afresh.
DATABASE_PREPARED_STATEMENTS = (
    os.environ.get("DATABASE_PREPARED_STATEMENTS", "1").lower() in TRUE_WORDS
)
# Read replicas (config/replicas.py): aliases replica_1, replica_2... Tests that set
# some read the test database itself through them.
for _number, _url in enumerate(
    filter(
        None,
        (url.strip() for url in os.environ.get("DATABASE_REPLICA_URLS", "").split(",")),
    ),
    start=1,
):
    _replica = dj_database_url.parse(_url, conn_max_age=60)
    # A replica that is down must not hold a read up: the read goes to the primary.
    _replica.setdefault("OPTIONS", {}).update(prepare_threshold=5, connect_timeout=1)
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_number}"] = _replica
# A database that cannot be reached answers 503 in bounded time, not a hang: a new
# connection gives up after DATABASE_CONNECT_TIMEOUT_SECONDS; one whose server
# stopped answering mid-request (a host frozen, a network cut: no reset ever comes)
# is given up by TCP within about 25 s (libpq's keepalives: silent 10 s, then three
# probes 5 s apart; and sent data unacknowledged for 25 s), not the kernel's 15 min.
DATABASE_CONNECT_TIMEOUT_SECONDS = int(
    os.environ.get("DATABASE_CONNECT_TIMEOUT_SECONDS", "3")
)
DEAD_PEER = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 25_000,  # milliseconds
}
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _options = _database.setdefault("OPTIONS", {})
        _options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS)
        for _key, _value in DEAD_PEER.items():
            _options.setdefault(_key, _value)
if not DATABASE_PREPARED_STATEMENTS:
    for _database in DATABASES.values():
        _database.setdefault("OPTIONS", {})["prepare_threshold"] = None
READ_REPLICA_ALIASES = tuple(alias for alias in DATABASES if alias != "default")
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]
READ_REPLICA_MAX_LAG_SECONDS = float(
    os.environ.get("READ_REPLICA_MAX_LAG_SECONDS", "1")
)
READ_REPLICA_CHECK_SECONDS = float(os.environ.get("READ_REPLICA_CHECK_SECONDS", "0.5"))
READ_YOUR_WRITES_SECONDS = float(os.environ.get("READ_YOUR_WRITES_SECONDS", "5"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# In production, hashed and compressed names from `collectstatic` (long cache lifetimes);
# the demo and the tests serve the apps' static folders directly, with no collect step.
STATIC_MANIFEST = env_bool("DJANGO_STATIC_MANIFEST", not (DEBUG or RUNNING_TESTS))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
# Before the first collectstatic there is no STATIC_ROOT; the finders serve instead.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")


# Security: TLS is terminated by the proxy in front; these are the parts the app owns.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0"))
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON only: a form body turns a left-out boolean into false (a SKU deactivated by
    # a rename), and generated clients would send every write as multipart.
    # It maps an Idempotency-Key header onto the body's reference where the body has
    # none (integrations/idempotency.py); otherwise config.parsers.SafeJSONParser.
    "DEFAULT_PARSER_CLASSES": ["integrations.idempotency.KeyAsReferenceJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PERMISSION_CLASSES": ["integrations.permissions.HoldsTheScope"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.negotiation.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # Every operation's refusals, each with its typed body (config/schema.py).
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "One stock API",
    "DESCRIPTION": (
        "One catalogue, one set of locations and one inventory ledger for every "
        "channel. Authenticate with `Authorization: Token <token>`."
    ),
    "VERSION": "1",
    # OpenAPI 3.1 (JSON Schema 2020-12): validated, and the contract tests, schemathesis
    # and the generated client run on it (docs/api.md).
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Operations are tagged by resource and named `<resource>_<action>`
    # (`reservations_create`): a generated client's modules and functions.
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "inventory.schema.movements_accept_one_or_a_batch",
        "config.schema.defaults_a_client_may_send",
        "config.schema.times_of_day_as_written",
        "integrations.schema.idempotency_key_on_posts",
    ],
    # One name per set of choices in the schema (config/schema_enums.py).
    "ENUM_NAME_OVERRIDES": SCHEMA_ENUM_NAMES,
}

# Stock ledger.
ONESTOCK_POS_DELAY_SECONDS = int(os.environ.get("ONESTOCK_POS_DELAY_SECONDS", "900"))
ONESTOCK_CLOCK_SKEW_SECONDS = int(os.environ.get("ONESTOCK_CLOCK_SKEW_SECONDS", "300"))
ONESTOCK_MAX_BATCH = 1000
ONESTOCK_TOKEN_CACHE_SECONDS = float(
    os.environ.get("ONESTOCK_TOKEN_CACHE_SECONDS", "5")
)

# Channel sync, webhooks, idempotency keys and file imports: config/integration_settings.py.
from config.integration_settings import *  # noqa: E402, F403

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
# Where jobs go unless a setting names another queue (beat's jobs among them).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes each job's last run as it sends it (not every 3 minutes): /readyz
# compares them with their schedules. A few small updates a minute.
CELERY_BEAT_SYNC_EVERY = 1
CELERY_TIMEZONE = TIME_ZONE

# Operability (docs/operations.md). Logs: one JSON object a line (python-json-logger)
# in production, plain text for the demo. Every line carries its request's id
# (config.middleware.RequestId), a Celery task's lines the id of the request that
# queued it (config.task_context); each request and each task also writes one line
# of its own (loggers onestock.request and onestock.task).
LOG_FORMAT = (os.environ.get("LOG_FORMAT") or ("text" if DEBUG else "json")).lower()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.request_context.RequestIdLogFilter"}},
    "formatters": {
        "text": {"format": "%(levelname)s [%(request_id)s] %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "format": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
}
# /metrics (Prometheus text, config/metrics.py): a scraper with the token, or any
# client from the allowed networks.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
# A worker's own /metrics, where no gunicorn shares its folder (config/workers.py).
WORKER_METRICS_PORT = int(os.environ.get("WORKER_METRICS_PORT", "0"))
WORKER_METRICS_ADDRESS = os.environ.get("WORKER_METRICS_ADDRESS", "127.0.0.1")
# Errors to Sentry, only when a DSN is given (config/error_reports.py).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "production")
# A write never waits on the broker (config/broker.py): a short timeout, then a
# circuit that stops trying for a while; beat's sweeps deliver what was not queued.
BROKER_TIMEOUT_SECONDS = float(os.environ.get("BROKER_TIMEOUT_SECONDS", "0.5"))
BROKER_CIRCUIT_SECONDS = float(os.environ.get("BROKER_CIRCUIT_SECONDS", "30"))
RETRY_AFTER_SECONDS = int(os.environ.get("RETRY_AFTER_SECONDS", "5"))

# Store pickup (pickup app): how long before an uncollected order expires its
# customer is reminded, and how long a problem at picking may wait for a decision
# before it goes to the manager. Expiry itself is per location (pickup_hold_days).
PICKUP_REMINDER_HOURS_BEFORE_EXPIRY = int(
    os.environ.get("PICKUP_REMINDER_HOURS_BEFORE_EXPIRY", "24")
)
PICKUP_PROBLEM_ESCALATE_MINUTES = int(
    os.environ.get("PICKUP_PROBLEM_ESCALATE_MINUTES", "30")
)
# A received return waiting longer than this for its grade is flagged for the manager.
RETURNS_INSPECTION_TARGET_HOURS = int(
    os.environ.get("RETURNS_INSPECTION_TARGET_HOURS", "48")
)

# Exception queue (reconciliation): how long each kind of case may stay open before
# it shows as overdue. Ageing is measured from when it was first raised.
EXCEPTION_TARGET_HOURS = {
    "oversell_conflict": 4,
    "item_not_found": 8,
    "pickup_undecided": 2,
    "pickup_expired": 24,
    "pickup_out_of_step": 2,
    "return_overdue": 24,
    "count_variance": 24,
    "ledger_drift": 8,
    "snapshot_disagreement": 24,
    "sync_delayed": 1,
    "webhook_failing": 4,
    "supply_delayed": 24,
}
# Counts and adjustments people state in the back office come from this source.
ONESTOCK_STAFF_CHANNEL = "back-office-staff"
# Cycle counts: a count within the tolerance (units, or percent of the system's
# on-hand, whichever is wider) is accurate; beyond it, a recount is asked for once.
COUNT_TOLERANCE_UNITS = int(os.environ.get("COUNT_TOLERANCE_UNITS", "0"))
COUNT_TOLERANCE_PERCENT = float(os.environ.get("COUNT_TOLERANCE_PERCENT", "0"))
# Every SKU held at a location is counted at least once in this many days; each
# night adds a sample of this size, weighted to fast movers and recent exceptions.
COUNT_CYCLE_DAYS = int(os.environ.get("COUNT_CYCLE_DAYS", "30"))
COUNT_NIGHTLY_SAMPLE = int(os.environ.get("COUNT_NIGHTLY_SAMPLE", "10"))

# Nightly reconciliation and external snapshots. A snapshot's figure within the
# tolerance (units, or percent of the ledger's, whichever is wider) agrees.
SNAPSHOT_TOLERANCE_UNITS = int(os.environ.get("SNAPSHOT_TOLERANCE_UNITS", "1"))
SNAPSHOT_TOLERANCE_PERCENT = float(os.environ.get("SNAPSHOT_TOLERANCE_PERCENT", "2"))
SNAPSHOT_PAGE_MAX_ROWS = 10_000
SNAPSHOT_MAX_PAGES = 1_000
# Past this many cases for one snapshot, one more case says how many others differ.
SNAPSHOT_CASES_MAX = int(os.environ.get("SNAPSHOT_CASES_MAX", "100"))
# Snapshot rows compared per step (each step commits with the run's progress).
RECONCILIATION_CHUNK_ROWS = int(os.environ.get("RECONCILIATION_CHUNK_ROWS", "5000"))
# The dashboard's days of supply use the rate of sale over this many trailing days,
# computed nightly (reconciliation.refresh_sales_rates).
SALES_RATE_DAYS = int(os.environ.get("SALES_RATE_DAYS", "28"))
# Transfer proposals (reconciliation.services.proposals): what counts as a surplus and
# as a coming shortage, in days of a location's own rate of sale.
TRANSFER_SURPLUS_DAYS = int(os.environ.get("TRANSFER_SURPLUS_DAYS", "56"))
TRANSFER_SHORTAGE_DAYS = int(os.environ.get("TRANSFER_SHORTAGE_DAYS", "7"))
# The symbol the dashboard writes money with (shrink at cost, lost sales at price).
# SKU costs and prices carry no currency of their own: the retailer has one.
CURRENCY_SYMBOL = os.environ.get("ONESTOCK_CURRENCY_SYMBOL", "£")
# The queue a run started from the screen is sent to.
RECONCILIATION_QUEUE = os.environ.get("RECONCILIATION_QUEUE", "celery")
# A run that failed this many times after resuming is abandoned and a new one starts.
RECONCILIATION_MAX_RESUMES = int(os.environ.get("RECONCILIATION_MAX_RESUMES", "3"))
# A running run whose last step is older than this was cut off: the next start
# finishes it.
RECONCILIATION_STALE_SECONDS = int(
    os.environ.get("RECONCILIATION_STALE_SECONDS", "600")
)

# Customer emails (pickup notices) go through Django's email backend: printed to the
# console unless a real backend is configured.
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get(
    "DJANGO_DEFAULT_FROM_EMAIL", "One stock <orders@onestock.example>"
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Throttling and the browser's policy (docs/security.md).
# Failed sign-ins (/login/, /admin/, /api-auth/) per client address, by django-axes
# (config/throttling.py): LOGIN_FAILURE_LIMIT failures lock the address out for
# LOGIN_COOLOFF_MINUTES after the last one; the answer is 429 with Retry-After.
AUTHENTICATION_BACKENDS = [
    "config.throttling.LoginThrottle",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "config.throttling.login_locked_out"
# The client's address is REMOTE_ADDR, unless this many proxies of ours stand in
# front, each adding to X-Forwarded-For: then the address the outermost one saw.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# Unknown, revoked or malformed API tokens per client address, in the limits
# library's notation ("20/minute"), counted where THROTTLE_STORAGE_URL says: the
# Celery broker's Redis by default, so every server process counts together; in
# this process's memory under pytest, forgotten between tests.
THROTTLE_TOKEN_FAILURES = os.environ.get("THROTTLE_TOKEN_FAILURES", "20/minute")
THROTTLE_STORAGE_URL = os.environ.get("THROTTLE_STORAGE_URL") or (
    "memory://" if RUNNING_TESTS else CELERY_BROKER_URL
)
READ_YOUR_WRITES_STORAGE_URL = os.environ.get("READ_YOUR_WRITES_STORAGE_URL") or (
    CELERY_BROKER_URL
    if CELERY_BROKER_URL.startswith("redis")
    else "redis://127.0.0.1:6379/0"
)
# The Content-Security-Policy of every page (django-csp): scripts, styles, fonts and
# requests from this site only; no inline script, handler or style, no eval. HTMX,
# Chart.js and Swagger UI are served from static files (docs/security.md).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # Swagger UI's icons are data: URIs
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Errors to Sentry only when SENTRY_DSN is set (config/error_reports.py).
if SENTRY_DSN:
    from config.error_reports import error_reports_start

    error_reports_start(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT)
