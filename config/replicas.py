"""Read replicas: which database a read goes to.

``DATABASE_REPLICA_URLS`` (comma-separated, empty by default) adds PostgreSQL
streaming replicas as the database aliases ``replica_1``, ``replica_2``... Nothing
else changes where they are not configured: every read and write on the primary.

Where they are, a read *view* opts in (``ReadsFromReplica`` for the API,
``reads_from_replica`` for screens): availability, the change feed, the lists, the
dashboards and their CSV exports. For a GET or HEAD of such a view, after the client
is known, one replica is chosen for the request, unless:

- the client wrote within ``READ_YOUR_WRITES_SECONDS`` (the same API token, or the
  same signed-in person): a till that has just posted a sale reads it back. Every
  write request notes its client (``ReadYourWrites``, a middleware) in Redis
  (``READ_YOUR_WRITES_STORAGE_URL``), shared by every server process; if Redis cannot
  be asked, the read goes to the primary;
- no replica's replay lag is within ``READ_REPLICA_MAX_LAG_SECONDS``. Each server
  process asks each replica its lag at most every ``READ_REPLICA_CHECK_SECONDS``
  (one short query); a replica that cannot be reached is asked again after
  ``DOWN_RECHECK_SECONDS``;
- the replica fails during the read: the read is answered again from the primary
  (no error reaches the client) and the replica is set aside.

Inside a transaction on the primary, every read stays there (a write's own reads,
its locks, the checkout's hot path), whatever the view: ``reading_alias`` and the
router both say so. Writes always go to the primary.

Figures read from a replica are as old as its lag, plus the time since the lag was
asked: ``replica_staleness``. Availability's status never says ``confirmed`` for
figures that may be older than the bound (``inventory.selectors.source_states``).
"""

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, connections
from django.db.utils import OperationalError

logger = logging.getLogger(__name__)

_reading: ContextVar[str | None] = ContextVar("onestock_reading_from", default=None)

# A replica that could not be reached is not asked again for this long: a request
# should not wait for a connection timeout every check.
DOWN_RECHECK_SECONDS = 5.0

# The replay lag in seconds, as the replica itself sees it: nothing to replay and its
# WAL receiver streaming, none; otherwise how long ago the last transaction it
# replayed committed on the primary (an overestimate while the primary is idle, which
# only sends reads to the primary). Not a replica at all (promoted): none.
LAG_QUERY = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0
  WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
       AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
    THEN 0
  ELSE COALESCE(
    EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()),
    1e9)
END
"""

# What stops a read on a replica that is down, restarting or cut off.
REPLICA_FAILURES = (OperationalError, InterfaceError)


def replica_aliases() -> tuple[str, ...]:
    return settings.READ_REPLICA_ALIASES


def reading_alias() -> str:
    """The database this request's reads go to: the replica chosen for it, unless a
    transaction is open on the primary (its reads stay with it); else the primary."""
    alias = _reading.get()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


class ReplicaRouter:
    """Django's database router: reads where ``reading_alias`` says, writes on the
    primary; the replicas are never migrated (they replay the primary)."""

    def db_for_read(self, model, **hints) -> str:
        return reading_alias()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, first, second, **hints) -> bool:
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


# ------------------------------------------------------------- choosing a replica


@dataclass(frozen=True)
class _Seen:
    asked_at: float  # time.monotonic()
    lag: float | None  # None: could not be reached


_seen: dict[str, _Seen] = {}
_asking = threading.Lock()


def _lag_of(alias: str) -> float | None:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_QUERY)
            (lag,) = cursor.fetchone()
        return float(lag)
    except DatabaseError as error:
        logger.warning("read replica %s unreachable: %s", alias, error)
        connections[alias].close()
        return None


def _state(alias: str) -> _Seen:
    """What is known of ``alias``, asked again once it is old. One thread of the
    process asks; the others go on with what was known, unless nothing was."""
    seen = _seen.get(alias)
    wait = settings.READ_REPLICA_CHECK_SECONDS
    if seen is not None and seen.lag is None:
        wait = DOWN_RECHECK_SECONDS
    if seen is not None and time.monotonic() - seen.asked_at < wait:
        return seen
    if not _asking.acquire(blocking=seen is None):
        return seen
    try:
        now = _seen.get(alias)
        if now is seen:  # nobody asked meanwhile
            now = _seen[alias] = _Seen(time.monotonic(), _lag_of(alias))
        return now
    finally:
        _asking.release()


def replica_lag(alias: str) -> float | None:
    """``alias``'s replay lag in seconds as this process knows it (asked again once
    old), or None when it cannot be reached: for /readyz."""
    return _state(alias).lag


def replica_staleness(alias: str) -> float:
    """How old figures read from ``alias`` may be, in seconds: its lag when last
    asked, plus the time since. The primary's are current."""
    if alias == DEFAULT_DB_ALIAS:
        return 0.0
    seen = _seen.get(alias)
    if seen is None or seen.lag is None:
        return float("inf")
    return seen.lag + (time.monotonic() - seen.asked_at)


def replica_set_aside(alias: str) -> None:
    """A read on ``alias`` failed: it is not chosen again until it answers a check,
    ``DOWN_RECHECK_SECONDS`` from now."""
    _seen[alias] = _Seen(time.monotonic(), None)
    connections[alias].close()


def replica_for(request) -> str | None:
    """A replica fresh enough for this request's reads, or None (the primary)."""
    aliases = replica_aliases()
    if not aliases or wrote_recently(request):
        return None
    bound = settings.READ_REPLICA_MAX_LAG_SECONDS
    fresh = [
        alias
        for alias in aliases
        if _state(alias).lag is not None and replica_staleness(alias) <= bound
    ]
    return random.choice(fresh) if fresh else None


# ------------------------------------------------------------- read your writes


@functools.cache
def _writes_noted() -> tuple[redis.Redis, str]:
    """One Redis client per process (its pool is thread-safe), and the prefix of this
    primary's keys: two deployments (or test runs) sharing a Redis never answer for
    each other. redis-py itself: Django's cache makes a client per call."""
    client = redis.Redis.from_url(
        settings.READ_YOUR_WRITES_STORAGE_URL,
        socket_timeout=0.25,
        socket_connect_timeout=0.25,
    )
    primary = settings.DATABASES[DEFAULT_DB_ALIAS]
    return client, "onestock-wrote:{HOST}:{PORT}/{NAME}:".format(**primary)


def _client(request) -> str | None:
    """Who a request is from, for read-your-writes: its API token, else the person
    signed in."""
    token = getattr(request, "auth", None)
    if token is not None and getattr(token, "pk", None) is not None:
        return f"token:{token.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def note_write(request) -> None:
    if not replica_aliases():
        return
    client = _client(request)
    if client is None:
        return
    store, prefix = _writes_noted()
    window = max(1, round(settings.READ_YOUR_WRITES_SECONDS * 1000))
    try:
        store.set(prefix + client, 1, px=window)
    except Exception as error:  # noqa: BLE001 (a write is never refused for this)
        logger.warning("could not note a write for read-your-writes: %s", error)


def wrote_recently(request) -> bool:
    client = _client(request)
    if client is None:
        return False
    store, prefix = _writes_noted()
    try:
        return store.exists(prefix + client) > 0
    except Exception as error:  # noqa: BLE001 (unsure: read from the primary)
        logger.warning("could not ask read-your-writes: %s", error)
        return True


class ReadYourWrites:
    """Middleware: every request that may write notes its client once answered."""

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            note_write(request)
        return response


# ------------------------------------------------------------- views that opt in


def _answered(alias: str | None, answer: Callable):
    """``answer()`` with its reads on ``alias``; if the replica fails meanwhile, set it
    aside and answer again from the primary."""
    if alias is None:
        return answer()
    token = _reading.set(alias)
    try:
        return answer()
    except REPLICA_FAILURES as error:
        _back_to_the_primary(alias, error)
        return answer()
    finally:
        _reading.reset(token)


def _back_to_the_primary(alias: str, error: Exception) -> None:
    """A read failed on ``alias``: set it aside and read the rest from the primary."""
    logger.warning("read replica %s failed, reading from the primary: %s", alias, error)
    replica_set_aside(alias)
    _reading.set(None)


def reads_from_replica(view: Callable) -> Callable:
    """For a screen's view: its GETs read from a replica when one may serve them."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        return _answered(replica_for(request), lambda: view(request, *args, **kwargs))

    return wrapped


class ReadsFromReplica:
    """For an API view (first among its bases): its GETs and HEADs read from a
    replica when one may serve them, chosen once the client is authenticated (the
    token's look-up, the permission checks and throttling stay on the primary)."""

    def dispatch(self, request, *args, **kwargs):
        # Whatever happens (a 500 included), the thread's next request starts on the
        # primary.
        token = _reading.set(None)
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            _reading.reset(token)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            _reading.set(replica_for(request))

    def handle_exception(self, exc):
        alias = _reading.get()
        if alias is not None and isinstance(exc, REPLICA_FAILURES):
            _back_to_the_primary(alias, exc)
            handler = getattr(self, self.request.method.lower())
            try:
                return handler(self.request, *self.args, **self.kwargs)
            except Exception as again:  # noqa: BLE001 (answered as DRF answers it)
                exc = again
        return super().handle_exception(exc)
