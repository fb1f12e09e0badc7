"""CEA settings: everything configurable comes from the environment (see README).

Two modes run the same code:
- stack mode: DATABASE_URL and REDIS_URL name external PostgreSQL and Redis servers;
- embedded default: neither is set, and the URLs of the embedded servers started by
  ``python -m cea.runtime`` (``make run`` / ``make test``) are read from the data folder.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import phonenumbers
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import ConnectionError as RedisConnectionError

from cea.common.env import env_bool, env_int, env_list, env_optional, env_rate, env_str, env_url
from cea.common.redis_connection import CancellableConnection
from cea.runtime import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
# Where the embedded servers, the generated secret, the demo logins and uploads live (CEA_DATA_DIR).
# Apps read it from here: only the composition root knows the runtime.
DATA_DIR = embedded.data_dir()

# --- Mode ----------------------------------------------------------------------------------

DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql"))
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
# Embedded: no DATABASE_URL, or the URLs exported by `python -m cea.runtime` to its children
# (CEA_EMBEDDED=1; see cea/runtime/embedded.py `environment`). Stack mode's requirements
# (a SECRET_KEY given, production senders …) apply only when neither holds.
EMBEDDED = DATABASE_URL is None or env_bool("CEA_EMBEDDED", False)
if DATABASE_URL is None:
    _state = embedded.read_state()
    if _state is None:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set and the embedded servers are not running. Start them with "
            "`make run`, or run a command with `.venv/bin/python -m cea.runtime exec -- <command>`, "
            "or set DATABASE_URL and REDIS_URL to use external servers."
        )
    DATABASE_URL = _state.database_url
    REDIS_URL = REDIS_URL or _state.redis_url
if REDIS_URL is None:
    raise ImproperlyConfigured("DATABASE_URL is set but REDIS_URL is not: stack mode needs both.")

DEBUG = env_bool("CEA_DEBUG", False)

_secret = env_optional("SECRET_KEY")
if _secret is None:
    if not EMBEDDED and not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required in stack mode (or set CEA_DEBUG=1 for development).")
    _secret = embedded.secret_key()
SECRET_KEY = _secret

# Key for hashing national ids (HMAC-SHA256). Keep it stable: rotating it orphans stored hashes.
IDENTITY_HASH_KEY = env_str("CEA_IDENTITY_HASH_KEY", "") or f"identity:{SECRET_KEY}"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Applications ---------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "csp",
    "axes",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "cea.common",
    "cea.accounts",
    "records",
    "integration",
    "engagement",
    "insights",
]

MIDDLEWARE = [
    # First: an oversize body is refused before anything reads it (under ASGI, cea/asgi.py already did).
    "cea.common.body_limit.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "cea.common.request_url.RequestUrlMiddleware",
    "cea.common.middleware.ApplicationErrorMiddleware",
    # Last, so that it sees the outcome of authentication (django-axes' requirement).
    "axes.middleware.AxesMiddleware",
]

# The audit trail's request context (who, which URL) is attached to requests that may write: pghistory
# prepends two set_config() calls to every statement inside it, reads included. Services that write
# records run inside records.audit.context.audited() whatever the method; a GET writes nothing tracked.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Request bodies. The hard cap refuses a larger body with 413 before reading it (cea/common/body_limit.py;
# the default fits a 25 MiB inbound email sent base64-encoded in JSON). Below it, Django refuses form
# data and bodies read whole (the signed webhooks) over DATA_UPLOAD_MAX_MEMORY_SIZE (413 from the API),
# and keeps a body in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE (under ASGI: every body), then on disk.
CEA_MAX_REQUEST_BYTES = env_int("CEA_MAX_REQUEST_BYTES", 40 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=0)

ROOT_URLCONF = "cea.urls"
WSGI_APPLICATION = "cea.wsgi.application"
ASGI_APPLICATION = "cea.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",  # LANGUAGE_CODE for <html lang>
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------------------

# Every process keeps a pool of PostgreSQL connections (Django's pool on psycopg 3 and psycopg-pool):
# a request or a consumer's database call borrows one and gives it back, instead of connecting and
# disconnecting each time (docs/performance.md: the connect was the largest single cost of a 360).
# Under ASGI each in-flight request's sync code runs in its own thread and holds a connection, so the
# pool's largest size bounds the process's connections and the requests it serves at once; a request
# that waits longer than the timeout for one gets a clear 503 (cea.common.errors). Each connection
# is checked before it is lent, so the pool recovers by itself after a database restart
# (cea/common/postgresql: at once, not one backed-off check per dead connection).
# CEA_DB_POOL_MAX_SIZE=0 turns the pool off: then CEA_DB_CONN_MAX_AGE says how long a thread keeps its
# own connection (keep it 0 under ASGI, where persistent connections leak; the pool forbids it).
DB_POOL_MAX_SIZE = env_int("CEA_DB_POOL_MAX_SIZE", 20, minimum=0)
DB_CONN_MAX_AGE = env_int("CEA_DB_CONN_MAX_AGE", 0, minimum=0)
if DB_POOL_MAX_SIZE and DB_CONN_MAX_AGE:
    raise ImproperlyConfigured(
        "CEA_DB_CONN_MAX_AGE keeps connections per thread, which the connection pool replaces: "
        "unset it, or set CEA_DB_POOL_MAX_SIZE=0 to turn the pool off."
    )


def _database(url: str, *, pool_name: str) -> dict[str, Any]:
    """Django's settings for one PostgreSQL alias: pooled as described above (or not, when the pool is off)."""
    database: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True))
    # Django's PostgreSQL backend, whose pool drops every dead connection at once after a restart.
    database["ENGINE"] = "cea.common.postgresql"
    if DB_POOL_MAX_SIZE:
        database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(env_int("CEA_DB_POOL_MIN_SIZE", 2, minimum=0), DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            # Seconds a borrower waits for a free connection before psycopg_pool.PoolTimeout.
            "timeout": env_int("CEA_DB_POOL_TIMEOUT", 10, minimum=1),
            # An idle connection beyond min_size is closed after this; every one is replaced after an hour.
            "max_idle": 300,
            "max_lifetime": 3600,
            # While the database is down, the pool retries a connection with a growing back-off (1 s,
            # 2 s, 4 s …); it gives that up after this, and the next request starts again from 1 s:
            # after a long outage requests are served again within seconds, not after a long back-off.
            "reconnect_timeout": 5,
            "name": pool_name,
        }
    return database


DATABASES = {"default": _database(DATABASE_URL, pool_name="cea-default")}
# A streaming replica of the same database, for reports and analytics (docs/architecture.md, "Read
# replica"): only code inside ``cea.common.replica.reading_from_replica()`` reads from it, every write
# and every other read stays on "default", and migrations run on "default" only. Its pool has the
# options above. Tests use the test database for it (MIRROR). Unset, those reads go to "default".
REPLICA_DATABASE_URL = env_url("CEA_REPLICA_DATABASE_URL", schemes=("postgres", "postgresql"))
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = {**_database(REPLICA_DATABASE_URL, pool_name="cea-replica"), "TEST": {"MIRROR": "default"}}
# A report reads from the primary instead while the replica has fallen further behind than this, or
# cannot be reached (checked at most every few seconds per process); 0 accepts any lag.
REPLICA_MAX_LAG_SECONDS = env_int("CEA_REPLICA_MAX_LAG_SECONDS", 30, minimum=0)
DATABASE_ROUTERS = ["cea.common.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Several test processes (pytest-xdist) or deployments may share one Redis: keep keys apart.
REDIS_PREFIX = env_str("CEA_REDIS_PREFIX", "cea")

CACHES = {
    "default": {
        "BACKEND": "cea.common.cache.RedisCache",  # one pool a process (Django's: one a request under ASGI)
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_PREFIX,
    }
}

# redis-py 8 reads with a 5 s socket timeout by default, and channels-redis waits for a consumer's
# next message with a 5 s BZPOPMIN: an idle websocket's read would time out just as Redis answers,
# killing the consumer. The socket timeout must outlast the blocking wait. With a socket timeout,
# redis-py can lose a cancellation on Python 3.11: CancellableConnection (cea/common/redis_connection.py).
CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS = 15
CHANNEL_LAYER_HOST = {
    "address": REDIS_URL,
    "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS,
    "connection_class": CancellableConnection,
    # After a Redis restart every pooled connection is dead, and redis-py fails the next command on
    # each (one consumer's group_add or push at a time, for minutes: bench/soak.py). A connection
    # error is retried on a new connection instead (redis-py's Retry: 3 tries with backoff).
    "retry_on_error": [RedisConnectionError],
    # redis-py's asyncio pool allows 100 connections and then raises MaxConnectionsError: 100 desks
    # of one web process reconnecting at once (after a restart) took them all in the soak.
    "max_connections": 1000,
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [CHANNEL_LAYER_HOST],
            "prefix": f"{REDIS_PREFIX}:channels",
        },
    }
}

# Content-Security-Policy (django-csp): pages run only this site's scripts and styles (static/,
# the vendored htmx) and no inline code. A page that must allow an inline element asks for
# ``request.csp_nonce`` and gives it to the element: the nonce is added to the policy of that
# response only (the demo shop gives it to the widget, which puts it on the <style> it adds).
# The web chat widget on customers' own sites is under their policy, not this one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],  # 'self' covers the same host's websockets (ws:, wss:)
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Users, sessions, brute-force protection ------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Inactivity timeout: the session expires this many seconds after the last request.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env_int("CEA_SESSION_IDLE_TIMEOUT", 30 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# HTTPS only, by default, in stack mode without CEA_DEBUG (production); off in the embedded default
# and with CEA_DEBUG, which serve plain HTTP on loopback. Each part can be set on its own. Behind a
# proxy that ends TLS, set CEA_BEHIND_TLS_PROXY or the redirect never ends.
HTTPS_ONLY = not EMBEDDED and not DEBUG
SECURE_COOKIES = env_bool("CEA_SECURE_COOKIES", HTTPS_ONLY)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_bool("CEA_SSL_REDIRECT", HTTPS_ONLY)
# Load balancers and orchestrators probe over plain HTTP inside the network: the probes answer
# there instead of redirecting (they carry no cookie and no data; docs/deploying.md).
SECURE_REDIRECT_EXEMPT = [r"^health/(live|ready)/$"]
SECURE_HSTS_SECONDS = env_int("CEA_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS_ONLY else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CEA_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
# Asking browsers to preload HSTS for the whole domain is hard to undo: a deliberate choice.
SECURE_HSTS_PRELOAD = env_bool("CEA_HSTS_PRELOAD", False)
if env_bool("CEA_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# How many reverse proxies sit in front of the web process (0: none, clients connect directly).
# With N, the client's address is the N-th entry from the right of X-Forwarded-For; anything left
# of it is the client's own claim. One function reads it for every per-address limit:
# cea.common.client_ip (django-axes' pauses, API throttles of anonymous clients, the widget's limits).
CEA_TRUSTED_PROXY_COUNT = env_int("CEA_TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "cea.common.client_ip.client_ip"

AXES_FAILURE_LIMIT = env_int("CEA_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CEA_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# --- API ------------------------------------------------------------------------------------

# Seconds an authenticated API token (with its user) stays in the Redis cache, so that a token
# request reads no token row; every change of the token or its user invalidates it at once (0: off).
CEA_API_TOKEN_CACHE_SECONDS = env_int("CEA_API_TOKEN_CACHE_SECONDS", 60, minimum=0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "cea.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "cea.accounts.authentication.TokenScopePermission",
    ],
    "DEFAULT_PAGINATION_CLASS": "cea.common.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "cea.common.api.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "cea.common.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "cea.common.api.exception_handler",
    # Counted in the default cache (Redis), per API token, signed-in user or (anonymous) client
    # address; a view's ``throttle_scope`` adds a tighter rate (cea/common/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "cea.common.throttling.DefaultRateThrottle",
        "cea.common.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "default": env_rate("CEA_THROTTLE_DEFAULT", "1200/min"),
        "anonymous": env_rate("CEA_THROTTLE_ANONYMOUS", "600/min"),
        # Finding a customer: identify a conversation's customer; look-ups, customer search, the
        # aggregated view (which asks the back-ends), knowledge search.
        "identify": env_rate("CEA_THROTTLE_IDENTIFY", "120/min"),
        "lookup": env_rate("CEA_THROTTLE_LOOKUP", "120/min"),
        # Next to signing in: one-time passcodes sent and checked, knowledge answers checked.
        "auth": env_rate("CEA_THROTTLE_AUTH", "30/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CEA API",
    "DESCRIPTION": "Customer Engagement Architecture: records, engagement, integration and insights.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI from drf-spectacular-sidecar's pinned files in static/, never a CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "cea.common.channels.Channel",
        # desktools: conversations are listed by two components (a conversation, a conversation found by the search).
        "ConversationStatusEnum": "engagement.conversations.models.ConversationStatus",
        "CaseStatusEnum": "records.cases.models.CaseStatus",
        "CustomerStatusEnum": "records.customers.models.CustomerStatus",
        # Named here because ID&V has other "kind" and "method" choice sets (identify accepts "any").
        "KindEnum": "records.identities.models.IdentityKind",
        "ChallengeMethodEnum": "engagement.idv.models.ChallengeMethod",
        "WebhookEventEnum": "integration.webhooks.models.WebhookEvent",
        "WebhookDeliveryStatusEnum": "integration.webhooks.models.DeliveryStatus",
        "ComplianceRuleKindEnum": "insights.compliance.models.RuleKind",
        "PrivacyRequestKindEnum": "records.privacy.models.PrivacyRequestKind",
        "PrivacyRequestStatusEnum": "records.privacy.models.PrivacyRequestStatus",
        "ForecastMethodEnum": "engagement.wfm.forecasting.models.ForecastMethod",
        # WFM's kinds and statuses: a shift's activities, time off, requests, schedules.
        "ActivityKindEnum": "engagement.wfm.scheduling.models.ActivityKind",
        "TimeOffKindEnum": "engagement.wfm.scheduling.models.TimeOffKind",
        "RequestStatusEnum": "engagement.wfm.scheduling.models.RequestStatus",
        "ScheduleStatusEnum": "engagement.wfm.scheduling.models.ScheduleStatus",
        # Back-office work's and callbacks' statuses, kinds and outcomes (docs/desk.md).
        "CallbackStatusEnum": "engagement.outbound.models.CallbackStatus",
        "CallbackOutcomeEnum": "engagement.outbound.models.CallbackOutcome",
        "BackofficeStatusEnum": "engagement.backoffice.models.BackofficeStatus",
        "BackofficeKindEnum": "engagement.backoffice.models.BackofficeKind",
    },
}

# --- Routing (engagement) -----------------------------------------------------------------

# Routing and presence. The sweep expires offers, ends after-contact work, sets disconnected
# agents offline and re-routes waiting work whose rules widened (it is also the safety net for
# a lost trigger), so its period bounds how late any of those can be.
CEA_ROUTING_SWEEP_SECONDS = env_int("CEA_ROUTING_SWEEP_SECONDS", 2, minimum=1)
CEA_PRESENCE_GRACE_SECONDS = env_int("CEA_PRESENCE_GRACE_SECONDS", 30, minimum=1)
CEA_DESKTOP_HEARTBEAT_SECONDS = env_int("CEA_DESKTOP_HEARTBEAT_SECONDS", 20, minimum=1)
CEA_AFTER_CONTACT_SECONDS = env_int("CEA_AFTER_CONTACT_SECONDS", 60, minimum=0)
# The last agent: a conversation continuing a thread whose previous conversation (begun within
# CEA_LAST_AGENT_HOURS) an agent handled is offered to that agent first, for up to
# CEA_PREFERRED_AGENT_SECONDS (0: off), then to its queue (engagement/routing/engine.py, docs/desk.md).
CEA_PREFERRED_AGENT_SECONDS = env_int("CEA_PREFERRED_AGENT_SECONDS", 60, minimum=0)
CEA_LAST_AGENT_HOURS = env_int("CEA_LAST_AGENT_HOURS", 24, minimum=1)
# WFM adherence: an agent out of adherence this long opens an exception (engagement/wfm/adherence).
CEA_ADHERENCE_EXCEPTION_MINUTES = env_int("CEA_ADHERENCE_EXCEPTION_MINUTES", 5, minimum=1)
# Back-office work and callbacks (engagement/backoffice, engagement/outbound; docs/desk.md): a case's
# or task's priority rises over the last CEA_BACKOFFICE_SLA_WINDOW_MINUTES before its due time; a
# callback not answered is tried again CEA_CALLBACK_RETRY_MINUTES later, CEA_CALLBACK_MAX_ATTEMPTS
# times in all, then given up.
CEA_BACKOFFICE_SLA_WINDOW_MINUTES = env_int("CEA_BACKOFFICE_SLA_WINDOW_MINUTES", 480, minimum=1)
CEA_CALLBACK_MAX_ATTEMPTS = env_int("CEA_CALLBACK_MAX_ATTEMPTS", 3, minimum=1)
CEA_CALLBACK_RETRY_MINUTES = env_int("CEA_CALLBACK_RETRY_MINUTES", 30, minimum=1)
# (The callback link of an out-of-hours answer is absolute with CEA_PUBLIC_URL, below.)

# --- Websockets -----------------------------------------------------------------------------

# The largest websocket message: uvicorn is started with it (--ws-max-size, cea/runtime and the
# Procfile) and the consumers enforce it too (close 1009), for a deployment behind another server.
CEA_WS_MAX_BYTES = env_int("CEA_WS_MAX_BYTES", 64 * 1024, minimum=1024)
# A signed-in socket re-checks a subscription's access before a push at most this often.
CEA_WS_ACCESS_RECHECK_SECONDS = env_int("CEA_WS_ACCESS_RECHECK_SECONDS", 5, minimum=0)
# Threads a web process runs its websocket consumers' database calls on (cea/common/consumer_db.py):
# every connection's calls share them, each call borrowing a pooled connection for its duration, so
# they stay below the pool's size (the rest serves HTTP requests). Default: half the pool (10 of 20).
CEA_WS_DB_THREADS = env_int("CEA_WS_DB_THREADS", max(1, DB_POOL_MAX_SIZE // 2) if DB_POOL_MAX_SIZE else 10, minimum=1)
if DB_POOL_MAX_SIZE and CEA_WS_DB_THREADS > DB_POOL_MAX_SIZE:
    raise ImproperlyConfigured(
        f"CEA_WS_DB_THREADS={CEA_WS_DB_THREADS} is more than the connection pool holds "
        f"(CEA_DB_POOL_MAX_SIZE={DB_POOL_MAX_SIZE}): the threads would wait for connections. Lower it or grow the pool."
    )

# The anonymous web chat widget: connections open at once and new conversations a minute, per
# client address and per site key (engagement/webchat/limits.py).
CEA_WEBCHAT_CONNECTIONS_PER_IP = env_int("CEA_WEBCHAT_CONNECTIONS_PER_IP", 20, minimum=1)
CEA_WEBCHAT_CONNECTIONS_PER_SITE = env_int("CEA_WEBCHAT_CONNECTIONS_PER_SITE", 2000, minimum=1)
CEA_WEBCHAT_CONVERSATIONS_PER_IP_PER_MINUTE = env_int("CEA_WEBCHAT_CONVERSATIONS_PER_IP_PER_MINUTE", 5, minimum=1)
CEA_WEBCHAT_CONVERSATIONS_PER_SITE_PER_MINUTE = env_int("CEA_WEBCHAT_CONVERSATIONS_PER_SITE_PER_MINUTE", 300, minimum=1)
# Files from the widget (engagement/webchat/attachments.py): the largest, and how many a minute per
# client address and per site key. Keep CEA_MAX_REQUEST_BYTES above the largest file.
CEA_WEBCHAT_ATTACHMENT_MAX_BYTES = env_int("CEA_WEBCHAT_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
CEA_WEBCHAT_ATTACHMENTS_PER_IP_PER_MINUTE = env_int("CEA_WEBCHAT_ATTACHMENTS_PER_IP_PER_MINUTE", 10, minimum=1)
CEA_WEBCHAT_ATTACHMENTS_PER_SITE_PER_MINUTE = env_int("CEA_WEBCHAT_ATTACHMENTS_PER_SITE_PER_MINUTE", 600, minimum=1)
# Agents' files (engagement/conversations/files.py): how long a signed link to a sent file serves it
# without a login (Twilio fetches MediaUrl within minutes; the chat widget's download links).
CEA_MEDIA_URL_SECONDS = env_int("CEA_MEDIA_URL_SECONDS", 24 * 3600, minimum=60)

# --- Celery ---------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL
# kombu's Redis transport, made to survive Redis restarting under a worker (cea/common/celery_broker.py).
CELERY_BROKER_TRANSPORT = "cea.common.celery_broker:Transport"
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CEA_CELERY_QUEUE", "cea")
# /health/ answers anonymous callers with a worker ping this recent (a broadcast on the broker).
HEALTH_WORKER_CACHE_SECONDS = env_int("CEA_HEALTH_WORKER_CACHE_SECONDS", 5, minimum=0)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "global_keyprefix": f"{REDIS_PREFIX}:celery:"}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_PREFIX}:celery:"}
CELERY_RESULT_EXPIRES = timedelta(hours=1)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Synced into django-celery-beat's tables at start, where the console can edit or pause them.
CELERY_BEAT_SCHEDULE = {
    "records: flag SLA breaches": {
        "task": "records.cases.mark_sla_breaches",
        "schedule": env_int("CEA_SLA_SWEEP_SECONDS", 60, minimum=5),
    },
    # Retention policies (records/privacy/retention.py): nightly, off-peak; disabled policies do nothing.
    "records: apply retention policies (nightly)": {
        "task": "records.privacy.apply_retention",
        "schedule": crontab(minute=15, hour=3),
    },
    "engagement: WFM adherence sweep (exceptions, live rows)": {
        "task": "engagement.wfm.adherence.sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "engagement: WFM adherence days rollup": {
        "task": "engagement.wfm.adherence.rollup",
        "schedule": crontab(minute="*/15"),
    },
    # Replies through providers (engagement/adapters/outbox.py): resend the ones whose retry is overdue.
    "engagement: provider outbox sweep": {
        "task": "engagement.adapters.outbox_sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # Agents' files uploaded for a reply never sent (engagement/conversations/files.py): removed after a day.
    "engagement: remove draft attachments": {
        "task": "engagement.conversations.remove_draft_attachments",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    # Web chat (engagement/webchat/tasks.py): a visitor's message whose answer task was lost gets it again.
    "engagement: web chat answers sweep": {
        "task": "engagement.webchat.answers_sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "engagement: routing sweep": {
        "task": "engagement.routing.sweep",
        "schedule": float(CEA_ROUTING_SWEEP_SECONDS),
        "options": {"expires": float(CEA_ROUTING_SWEEP_SECONDS)},
    },
    # WFM forecasting (engagement/wfm/forecasting/tasks.py): nightly refit, intraday re-forecast every 30 min.
    "engagement: WFM forecasts of every planning queue (nightly)": {
        "task": "engagement.wfm.forecast_refresh_all",
        "schedule": crontab(minute=45, hour=1),
    },
    "engagement: WFM intraday re-forecast": {
        "task": "engagement.wfm.forecast_intraday_all",
        "schedule": crontab(minute="5,35"),
        "options": {"expires": 1500.0},
    },
    "integration: relay journey events to webhooks": {
        "task": "integration.webhooks.relay",
        "schedule": float(env_int("CEA_WEBHOOK_RELAY_SECONDS", 2, minimum=1)),
        "options": {"expires": float(env_int("CEA_WEBHOOK_RELAY_SECONDS", 2, minimum=1))},
    },
    "integration: send due webhook deliveries": {
        "task": "integration.webhooks.sweep",
        "schedule": 30.0,
        "options": {"expires": 30.0},
    },
    "insights: roll up contacts for the KPIs": {
        "task": "insights.kpis.rollup_contacts",
        "schedule": float(env_int("CEA_INSIGHTS_ROLLUP_SECONDS", 60, minimum=5)),
        "options": {"expires": float(env_int("CEA_INSIGHTS_ROLLUP_SECONDS", 60, minimum=5))},
    },
    "insights: retrain the churn-risk and propensity models (weekly)": {
        "task": "insights.scoring.train_all",
        "schedule": crontab(minute=30, hour=2, day_of_week="sunday"),
    },
    "insights: rescore customers (daily)": {
        "task": "insights.scoring.score_all",
        "schedule": crontab(minute=0, hour=4),
    },
    "insights: score sentiment of interactions recorded outside the desk (hourly)": {
        "task": "insights.sentiment.backfill",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "insights: compliance checks of interactions recorded outside the desk (hourly)": {
        "task": "insights.compliance.sweep",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "insights: assign journey stages": {
        "task": "insights.journeys.assign_stages",
        "schedule": float(env_int("CEA_JOURNEY_STAGE_SECONDS", 60, minimum=5)),
        "options": {"expires": float(env_int("CEA_JOURNEY_STAGE_SECONDS", 60, minimum=5))},
    },
    "insights: evaluate engagement strategies on new journey events": {
        "task": "insights.strategies.evaluate_events",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "insights: evaluate stage, score and schedule strategies": {
        "task": "insights.strategies.evaluate_time_triggers",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "insights: strategies' effect against their holdouts": {
        "task": "insights.strategies.compute_effects",
        "schedule": 900.0,
        "options": {"expires": 900.0},
    },
    "insights: arbitration's uplift against the random control group": {
        "task": "insights.strategies.compute_uplift",
        "schedule": float(env_int("CEA_ARBITRATION_UPLIFT_SECONDS", 3600, minimum=60)),
        "options": {"expires": float(env_int("CEA_ARBITRATION_UPLIFT_SECONDS", 3600, minimum=60))},
    },
    "engagement: expire recommended actions": {
        "task": "engagement.recommendations.expire",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
    "engagement: queue due callbacks": {
        "task": "engagement.outbound.queue_due_callbacks",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "engagement: back-office work's priority as its SLA nears": {
        "task": "engagement.backoffice.reprioritise",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "insights: assign every customer's persona": {
        "task": "insights.personas.assign",
        "schedule": crontab(minute=30, hour=2),
    },
    "insights: sample interactions for quality evaluation (daily)": {
        "task": "insights.quality.sample",
        "schedule": crontab(minute=15, hour=1),
    },
    "insights: discover persona clusters": {
        "task": "insights.personas.discover",
        "schedule": crontab(minute=0, hour=3, day_of_week=1),
    },
    # IMAP mailboxes (engagement/adapters/mailboxes): each active, unwatched mailbox whose retry time has come.
    "engagement: fetch mail from IMAP mailboxes": {
        "task": "engagement.mailboxes.fetch_due",
        "schedule": float(env_int("CEA_MAILBOX_POLL_SECONDS", 60, minimum=5)),
        "options": {"expires": float(env_int("CEA_MAILBOX_POLL_SECONDS", 60, minimum=5))},
    },
    "integration: send due write-backs": {
        "task": "integration.outbox.sweep",
        "schedule": float(env_int("CEA_OUTBOX_SWEEP_SECONDS", 10, minimum=1)),
        "options": {"expires": float(env_int("CEA_OUTBOX_SWEEP_SECONDS", 10, minimum=1))},
    },
}

# --- Insights: KPI rollups ------------------------------------------------------------------

# Each rollup run re-reads interactions changed this long before its watermark: rows committed
# after a run read past them, and corrections, are rolled up again (docs/kpis.md).
CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS = env_int("CEA_INSIGHTS_ROLLUP_LOOKBACK_SECONDS", 900, minimum=0)
# First-contact resolution: no repeat contact by the same customer with the same wrap-up code
# within this many days.
CEA_INSIGHTS_FCR_DAYS = env_int("CEA_INSIGHTS_FCR_DAYS", 7, minimum=1, maximum=90)

# --- Insights: churn-risk and propensity models (docs/models.md) ------------------------------

# The label horizon: churn is no activity, propensity a new holding, in this many days after a
# cutoff; training and evaluation windows are each this long.
CEA_SCORING_HORIZON_DAYS = env_int("CEA_SCORING_HORIZON_DAYS", 30, minimum=7, maximum=365)
# A model is not trained on fewer customers than this in either window, nor on fewer than
# CEA_SCORING_MIN_CLASS_ROWS of either class.
CEA_SCORING_MIN_ROWS = env_int("CEA_SCORING_MIN_ROWS", 200, minimum=10)
CEA_SCORING_MIN_CLASS_ROWS = env_int("CEA_SCORING_MIN_CLASS_ROWS", 20, minimum=2)
# --- Insights: engagement strategies (docs/journeys.md, "Engagement strategies") -------------

# At most this many firings (held-out ones included) per customer across all strategies in
# CEA_STRATEGIES_CUSTOMER_CAP_DAYS days, on top of each strategy's own cap.
CEA_STRATEGIES_CUSTOMER_CAP = env_int("CEA_STRATEGIES_CUSTOMER_CAP", 3, minimum=1)
CEA_STRATEGIES_CUSTOMER_CAP_DAYS = env_int("CEA_STRATEGIES_CUSTOMER_CAP_DAYS", 7, minimum=1, maximum=365)
# Journey events read per evaluation run; ids missing when read are looked for again this long.
CEA_STRATEGIES_BATCH = env_int("CEA_STRATEGIES_BATCH", 2000, minimum=1)
CEA_STRATEGIES_GAP_SECONDS = env_int("CEA_STRATEGIES_GAP_SECONDS", 300, minimum=1)
# A stage_entered strategy reaches customers who entered the stage at most this long ago.
CEA_STRATEGIES_STAGE_LOOKBACK_SECONDS = env_int("CEA_STRATEGIES_STAGE_LOOKBACK_SECONDS", 86400, minimum=60)
# Fewer customers than this in either group: the effect page claims no effect.
CEA_STRATEGIES_MIN_GROUP = env_int("CEA_STRATEGIES_MIN_GROUP", 30, minimum=1)
# Arbitration (docs/journeys.md, "Arbitration and uplift"): per customer and occasion, at most this
# many proactive actions and next best actions are acted on (the rest: suppressed "outranked");
# this percentage of customers (stable) is the random control group; the uplift against it is
# computed every CEA_ARBITRATION_UPLIFT_SECONDS and reported once each group has this many firings.
CEA_ARBITRATION_PROACTIVE_TOP = env_int("CEA_ARBITRATION_PROACTIVE_TOP", 1, minimum=1, maximum=20)
CEA_ARBITRATION_NBA_TOP = env_int("CEA_ARBITRATION_NBA_TOP", 3, minimum=1, maximum=20)
CEA_ARBITRATION_CONTROL_PERCENT = env_int("CEA_ARBITRATION_CONTROL_PERCENT", 5, minimum=0, maximum=50)
CEA_ARBITRATION_UPLIFT_MIN = env_int("CEA_ARBITRATION_UPLIFT_MIN", 100, minimum=2)
CEA_ARBITRATION_UPLIFT_SECONDS = env_int("CEA_ARBITRATION_UPLIFT_SECONDS", 3600, minimum=60)

# --- Integration: outbound webhooks and the write-back outbox ------------------------------

# The relay reads the journey log every CEA_WEBHOOK_RELAY_SECONDS and makes one delivery per
# matching subscription: a change reaches a subscriber about that long after its commit (plus
# the POST). Journey ids missing when read (a transaction still open) are looked for again for
# CEA_WEBHOOK_RELAY_GAP_SECONDS, after which they count as rolled back.
CEA_WEBHOOK_RELAY_SECONDS = env_int("CEA_WEBHOOK_RELAY_SECONDS", 2, minimum=1)
CEA_WEBHOOK_RELAY_BATCH = env_int("CEA_WEBHOOK_RELAY_BATCH", 500, minimum=1)
CEA_WEBHOOK_RELAY_GAP_SECONDS = env_int("CEA_WEBHOOK_RELAY_GAP_SECONDS", 300, minimum=1)
CEA_WEBHOOK_TIMEOUT_SECONDS = env_int("CEA_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# Attempts per delivery (5 s doubling to at most an hour: the tenth attempt is ~40 minutes in),
# and failed deliveries in a row after which a subscription is disabled until it is enabled again.
CEA_WEBHOOK_MAX_ATTEMPTS = env_int("CEA_WEBHOOK_MAX_ATTEMPTS", 10, minimum=1)
CEA_WEBHOOK_RETRY_BASE_SECONDS = env_int("CEA_WEBHOOK_RETRY_BASE_SECONDS", 5, minimum=1)
CEA_WEBHOOK_RETRY_MAX_SECONDS = env_int("CEA_WEBHOOK_RETRY_MAX_SECONDS", 3600, minimum=1)
CEA_WEBHOOK_DISABLE_AFTER = env_int("CEA_WEBHOOK_DISABLE_AFTER", 10, minimum=1)
# Subscriptions may only send to public addresses (no loopback, private, link-local, ...): checked
# when saved and on every attempt. Allow internal receivers only in development and tests.
CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("CEA_WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# The first load of a large fixed-width extract (integration.sync.firstload): a file read from its first
# line and at least this big is cleaned in worker processes (CEA_SYNC_FIRST_LOAD_WORKERS, 0: one per
# core) and merged set-wise in one transaction instead of page by page.
CEA_SYNC_FIRST_LOAD_MIN_BYTES = env_int("CEA_SYNC_FIRST_LOAD_MIN_BYTES", 10_000_000, minimum=0)
CEA_SYNC_FIRST_LOAD_WORKERS = env_int("CEA_SYNC_FIRST_LOAD_WORKERS", 0, minimum=0)
# Write-back: a message is sent on commit; the sweep is the safety net for a lost trigger and
# sends retries that fell due. A message given up on after CEA_OUTBOX_MAX_ATTEMPTS is "failed".
CEA_OUTBOX_SWEEP_SECONDS = env_int("CEA_OUTBOX_SWEEP_SECONDS", 10, minimum=1)
CEA_OUTBOX_MAX_ATTEMPTS = env_int("CEA_OUTBOX_MAX_ATTEMPTS", 12, minimum=1)
CEA_OUTBOX_RETRY_BASE_SECONDS = env_int("CEA_OUTBOX_RETRY_BASE_SECONDS", 5, minimum=1)
CEA_OUTBOX_RETRY_MAX_SECONDS = env_int("CEA_OUTBOX_RETRY_MAX_SECONDS", 3600, minimum=1)
# Where a connector's secret may come from: environment variables whose name has this prefix, and
# files inside this folder (after symlinks and ``..`` are resolved). Nothing else (SECRET_KEY,
# DATABASE_URL, .data/secret_key, /etc/shadow) can be named, and so shipped to a back-end.
CEA_CONNECTOR_SECRET_ENV_PREFIX = env_str("CEA_CONNECTOR_SECRET_ENV_PREFIX", "CEA_CONNECTOR_")
CEA_CONNECTOR_SECRET_DIR = env_str("CEA_CONNECTOR_SECRET_DIR", str(embedded.connector_secret_dir()))

# --- Records --------------------------------------------------------------------------------

CEA_DEFAULT_PHONE_REGION = env_str("CEA_DEFAULT_PHONE_REGION", "GB").upper()
if CEA_DEFAULT_PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(f"CEA_DEFAULT_PHONE_REGION={CEA_DEFAULT_PHONE_REGION!r} is not an ISO 3166 region code.")
# PII redaction reads national phone numbers (no +country) in the default region, then in these.
CEA_PII_PHONE_REGIONS = [
    r.upper() for r in env_list("CEA_PII_PHONE_REGIONS", ["GB", "FR", "DE", "ES", "NL", "BE", "US"])
]
if unknown_regions := sorted(set(CEA_PII_PHONE_REGIONS) - phonenumbers.SUPPORTED_REGIONS):
    raise ImproperlyConfigured(f"CEA_PII_PHONE_REGIONS has unknown region codes: {', '.join(unknown_regions)}.")

# --- Engagement -----------------------------------------------------------------------------

# The context store. Anchor: Avaya's context store caps a context near 2 KB and leases it for
# 7,200 s by default; CEA's limits are configurable and reported by GET /api/v1/engagement/contexts/limits/.
CEA_CONTEXT_TTL_SECONDS = env_int("CEA_CONTEXT_TTL_SECONDS", 7200, minimum=1)
CEA_CONTEXT_MAX_BYTES = env_int("CEA_CONTEXT_MAX_BYTES", 8192, minimum=256)
CEA_CONTEXT_MAX_VALUE_BYTES = env_int("CEA_CONTEXT_MAX_VALUE_BYTES", 2048, minimum=16)
CEA_CONTEXT_MAX_KEYS = env_int("CEA_CONTEXT_MAX_KEYS", 100, minimum=1)

# Identification and verification.
CEA_IDV_CODE_TTL_SECONDS = env_int("CEA_IDV_CODE_TTL_SECONDS", 300, minimum=30)
CEA_IDV_MAX_FAILURES = env_int("CEA_IDV_MAX_FAILURES", 5, minimum=1)
CEA_IDV_LOCK_MINUTES = env_int("CEA_IDV_LOCK_MINUTES", 30, minimum=1)
# Each further lock in a row lasts twice the one before, up to this (engagement.idv.attempts).
CEA_IDV_LOCK_MAX_MINUTES = env_int("CEA_IDV_LOCK_MAX_MINUTES", 24 * 60, minimum=1)
# Wiring, not configuration: records tells ID&V when a customer's phone or email changes.
CEA_CONTACT_CHANGE_NOTIFIER = "engagement.idv.services.contact_change_notify"
# A phone or email added to a customer is not where codes go until verified or this old.
CEA_IDV_NEW_CONTACT_HOLD_HOURS = env_int("CEA_IDV_NEW_CONTACT_HOLD_HOURS", 24, minimum=0)
CEA_SMS_SENDER = env_str("CEA_SMS_SENDER", "engagement.idv.senders.ConsoleSmsSender")

# Inbound webhooks: how old a signed timestamp may be.
CEA_WEBHOOK_TOLERANCE_SECONDS = env_int("CEA_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=10)

# Surveys: the address customers reach CEA's public pages at (the survey links in emails and SMS).
CEA_PUBLIC_URL = env_str("CEA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# Replies through providers (engagement/adapters/outbox.py, twilio.py, vonage.py; README, "Connecting
# Twilio and Vonage"): the providers' API base URLs (tests point them at loopback servers), how long a
# call may take, how long a provider that is down is retried (backoff doubling from 30 s up to the
# cap) before the reply is marked failed, and the most SMS segments a reply may take.
CEA_TWILIO_API_URL = (env_url("CEA_TWILIO_API_URL", schemes=("https", "http")) or "https://api.twilio.com").rstrip("/")
CEA_VONAGE_API_URL = (env_url("CEA_VONAGE_API_URL", schemes=("https", "http")) or "https://rest.nexmo.com").rstrip("/")
# Meta's Graph API (WhatsApp Cloud API, Messenger Send API), with its version; FCM's HTTP v1 API.
CEA_META_GRAPH_URL = (
    env_url("CEA_META_GRAPH_URL", schemes=("https", "http")) or "https://graph.facebook.com/v21.0"
).rstrip("/")
# The largest WhatsApp media kept with an inbound message (engagement/adapters/whatsapp.py); 16 MB is
# WhatsApp's own limit for audio and video.
CEA_WHATSAPP_MEDIA_MAX_BYTES = env_int("CEA_WHATSAPP_MEDIA_MAX_BYTES", 16 * 1024 * 1024, minimum=1024)
CEA_FCM_API_URL = (env_url("CEA_FCM_API_URL", schemes=("https", "http")) or "https://fcm.googleapis.com").rstrip("/")
# Web Push subscriptions on plain http endpoints (a push service on loopback in tests); https otherwise.
CEA_WEB_PUSH_ALLOW_HTTP = env_bool("CEA_WEB_PUSH_ALLOW_HTTP", False)
# Web Push endpoints on loopback or private hosts (the loopback push service in tests); refused
# otherwise, when registered and when sent (SSRF, engagement/adapters/push_devices.py).
CEA_PUSH_ALLOW_PRIVATE_HOSTS = env_bool("CEA_PUSH_ALLOW_PRIVATE_HOSTS", False)
CEA_PROVIDER_TIMEOUT_SECONDS = env_int("CEA_PROVIDER_TIMEOUT_SECONDS", 10, minimum=1)
CEA_PROVIDER_BACKOFF_MAX_SECONDS = env_int("CEA_PROVIDER_BACKOFF_MAX_SECONDS", 3600, minimum=30)
CEA_PROVIDER_GIVE_UP_HOURS = env_int("CEA_PROVIDER_GIVE_UP_HOURS", 24, minimum=1)
CEA_SMS_MAX_SEGMENTS = env_int("CEA_SMS_MAX_SEGMENTS", 10, minimum=1)
# The largest file kept from a Messenger message (engagement/adapters/messenger.py); Meta's own limit is 25 MB.
CEA_MESSENGER_ATTACHMENT_MAX_BYTES = env_int("CEA_MESSENGER_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
# The hosts (by suffix) an inbound file is fetched from, checked on every redirect
# (engagement/adapters/provider_http.py): Meta's CDNs (WhatsApp, Messenger) and Twilio's media store
# (besides CEA_TWILIO_API_URL's host). Tests add 127.0.0.1 for their loopback servers.
CEA_META_MEDIA_HOSTS = [
    host.lower()
    for host in env_list("CEA_META_MEDIA_HOSTS", ["fbcdn.net", "fbsbx.com", "facebook.com", "whatsapp.net"])
]
CEA_TWILIO_MEDIA_HOSTS = [
    host.lower() for host in env_list("CEA_TWILIO_MEDIA_HOSTS", ["twilio.com", "twiliocdn.com", "amazonaws.com"])
]

# Inbound email: how much of an HTML-only body is read (and made plain); the rest is not shown.
CEA_EMAIL_HTML_MAX_CHARS = env_int("CEA_EMAIL_HTML_MAX_CHARS", 512 * 1024, minimum=1024)

# Voice call control (engagement/adapters/voice_control, docs/channels.md "Voice: call control"):
# calls are updated through CEA_TWILIO_API_URL (above); how long a call update may take, and what
# a caller hears while waiting and on hold.
CEA_VOICE_API_TIMEOUT_SECONDS = env_int("CEA_VOICE_API_TIMEOUT_SECONDS", 10, minimum=1)
CEA_VOICE_HOLD_MUSIC_URL = env_str(
    "CEA_VOICE_HOLD_MUSIC_URL", "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
)
CEA_VOICE_LANGUAGE = env_str("CEA_VOICE_LANGUAGE", "en-GB")
# Record calls put through to agents (both sides, from the answer); the recording is linked on the interaction.
CEA_VOICE_RECORD_CALLS = env_bool("CEA_VOICE_RECORD_CALLS", False)

# The aggregated customer view (integration/aggregation): the whole answer comes back within the
# deadline; a connector's circuit opens after that many failures in a row and stays open for the
# cool-down, then lets one trial call through.
CEA_AGGREGATE_DEADLINE_MS = env_int("CEA_AGGREGATE_DEADLINE_MS", 2500, minimum=50)
CEA_AGGREGATE_WORKERS = env_int("CEA_AGGREGATE_WORKERS", 32, minimum=1)
CEA_BREAKER_FAILURES = env_int("CEA_BREAKER_FAILURES", 5, minimum=1)
CEA_BREAKER_COOLDOWN_SECONDS = env_int("CEA_BREAKER_COOLDOWN_SECONDS", 30, minimum=1)

# Email: inbound arrives at the email adapter's endpoint; replies go out through this backend.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CEA Support <support@cea.example>")

# Stack mode is production unless told otherwise: a sender that only prints or keeps its messages
# would swallow passcodes and replies there. Development (CEA_DEBUG=1), a demo stack and the test
# suite (tests/settings.py) may allow them explicitly.
CEA_ALLOW_CONSOLE_SENDERS = env_bool("CEA_ALLOW_CONSOLE_SENDERS", False)
_SENDERS_THAT_SEND_NOTHING = {
    "CEA_SMS_SENDER": {"engagement.idv.senders.ConsoleSmsSender", "engagement.idv.senders.LocmemSmsSender"},
    "EMAIL_BACKEND": {
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
    },
}
if not EMBEDDED and not DEBUG and not CEA_ALLOW_CONSOLE_SENDERS:
    for _name, _sender in (("CEA_SMS_SENDER", CEA_SMS_SENDER), ("EMAIL_BACKEND", EMAIL_BACKEND)):
        if _sender in _SENDERS_THAT_SEND_NOTHING[_name]:
            raise ImproperlyConfigured(
                f"{_name}={_sender} delivers nothing, and stack mode (DATABASE_URL set) sends real passcodes "
                f"and replies: set {_name} to a real sender (see README), or CEA_ALLOW_CONSOLE_SENDERS=1 for a "
                "test or demo stack."
            )

MEDIA_ROOT = env_str("CEA_MEDIA_ROOT", str(DATA_DIR / "media"))
MEDIA_URL = "media/"

# Email in over IMAP and SMTP (engagement/adapters/mailboxes, docs/channels.md "Email in: IMAP and SMTP").
# Mailboxes are polled this often (one that IDLEs under `manage.py mailbox_watch` is not); a mailbox
# that fails waits twice as long after each failure in a row, up to the retry maximum.
CEA_MAILBOX_POLL_SECONDS = env_int("CEA_MAILBOX_POLL_SECONDS", 60, minimum=5)
CEA_MAILBOX_RETRY_MAX_SECONDS = env_int("CEA_MAILBOX_RETRY_MAX_SECONDS", 1800, minimum=5)
CEA_MAILBOX_TIMEOUT_SECONDS = env_int("CEA_MAILBOX_TIMEOUT_SECONDS", 30, minimum=1)
# RFC 2177: a client re-issues IDLE within 29 minutes; CEA does so sooner, and fetches then too.
CEA_MAILBOX_IDLE_SECONDS = env_int("CEA_MAILBOX_IDLE_SECONDS", 300, minimum=1, maximum=1740)
# `manage.py smtp_server` accepts mail for these addresses and for every address of a domain given
# as `@domain`; anything else is refused (550). Messages over the size limit are refused (552).
CEA_SMTP_RECIPIENTS = env_list("CEA_SMTP_RECIPIENTS", [])
CEA_SMTP_MAX_BYTES = env_int("CEA_SMTP_MAX_BYTES", 25 * 1024 * 1024, minimum=1024, maximum=25 * 1024 * 1024)

# --- Internationalisation, static -----------------------------------------------------------

LANGUAGE_CODE = "en-gb"
# The interface's languages (docs/translations.md): the browser's Accept-Language, or the language a
# user picks, chooses among them (LocaleMiddleware). Catalogs live in locale/; make compiles them.
LANGUAGES = [("en-gb", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Personal data is redacted from every record a handler writes (strict policy: labels only).
    "filters": {"pii": {"()": "cea.common.log_filters.PiiRedactionFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["pii"]}},
    "root": {"handlers": ["console"], "level": env_str("CEA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Insights: journey stages --------------------------------------------------------------

# Stage assignment reads journey events recorded at least this long ago (ids follow inserts, not
# commits: a transaction open longer than this is assumed gone), this many event ids per batch.
CEA_JOURNEY_STAGE_LAG_SECONDS = env_int("CEA_JOURNEY_STAGE_LAG_SECONDS", 30, minimum=0)
# Quality sampling: a contact is "long" above its queue's weekly p90, or above this where the queue had too few.
CEA_QA_LONG_HANDLE_SECONDS = env_int("CEA_QA_LONG_HANDLE_SECONDS", 900, minimum=1)
CEA_JOURNEY_STAGE_BATCH = env_int("CEA_JOURNEY_STAGE_BATCH", 200_000, minimum=1000)
