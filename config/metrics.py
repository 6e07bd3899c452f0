"""Prometheus metrics: every metric the back office exports (one catalogue, the names
docs/operations.md lists), the one-line calls the apps count through, what is read
afresh at each scrape, the Celery tasks' durations, and ``/metrics`` itself behind
its setting.

Counting costs a few microseconds: a request 1.7 µs (3.7 µs writing gunicorn's
files, below), a hold placed 3 µs (4.4 µs), of the 800 µs a hold through the API
takes. A labelled metric's child is looked up once per set of label values
(``_child``), never through ``labels()`` on the hot path. Counts of writes are added
once their transaction commits (``transaction.on_commit``; at once outside one), so
a rolled-back hold or batch is never counted.

Where the figures live. Without ``PROMETHEUS_MULTIPROC_DIR`` (runserver, the demo,
the tests) they are this process's, in prometheus_client's own registry. With it
(gunicorn's processes, ``config/gunicorn.conf.py``, and a Celery worker on the same
machine started with the same folder), every process writes its figures to a file of
its own in that folder and a scrape adds them up (prometheus_client's multiprocess
mode), whichever process it reaches.

What is read at scrape time (backlogs, positions, queue lengths, connections) is not
counted anywhere: each ``reading`` asks the database or the broker when Prometheus
asks us. ``config`` imports no app, so an app reads its own tables in a module
``<app>.metrics`` that registers its readings here (``reading``), imported by its
``AppConfig.ready``. Readings run through ``config.probes``, as /readyz's checks do:
one that fails is left out of that scrape, logged, and shown as
``onestock_metrics_reading_failed``; a scrape never fails for one.
"""

import functools
import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    connection,
    connections,
    transaction,
)
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from .broker import BROKER_UNREACHABLE, broker_redis, queues_used
from .probes import Part, parts_run

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- the catalogue

# From a cached read (about a millisecond) to a slow export; a hold through the API
# takes under one.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
# A change is pushed within seconds when all is well; a receiver that was down gets
# it when it is back, up to a day later (the retry schedule).
PUSH_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400)

HTTP_REQUESTS = Counter(
    "onestock_http_requests",
    "Requests answered, by URL pattern, method and status.",
    ["route", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "onestock_http_request_duration_seconds",
    "Time to answer a request, by URL pattern, method and status.",
    ["route", "method", "status"],
    buckets=REQUEST_BUCKETS,
)
HOLDS = Counter(
    "onestock_holds",
    "Checkout holds placed, and refused for want of stock (nothing held).",
    ["outcome"],
)
STOCK_MOVEMENTS = Counter(
    "onestock_stock_movements",
    "Ledger entries written, by movement type and status.",
    ["type", "status"],
)
STOCK_CONFLICTS = Counter(
    "onestock_stock_conflicts",
    "Stock conflicts raised by the ledger: a physical fact took availability below "
    "what was promised.",
)
EXCEPTION_CASES = Counter(
    "onestock_exception_cases_opened",
    "Cases opened on the exception queue, by kind (a repeat of an open one is not "
    "counted).",
    ["kind"],
)
WEBHOOK_ATTEMPTS = Counter(
    "onestock_webhook_attempts",
    "Webhook POSTs, by outcome: delivered, receiver_error (answered but not 2xx), "
    "timeout, connection_failed, address_refused.",
    ["outcome"],
)
WEBHOOK_PUSH_SECONDS = Histogram(
    "onestock_webhook_push_latency_seconds",
    "From a change of availability being written to its delivery to a receiver.",
    buckets=PUSH_BUCKETS,
)
TASK_SECONDS = Histogram(
    "onestock_celery_task_duration_seconds",
    "Time a Celery task ran, by task name and outcome (its final state).",
    ["task", "outcome"],
    buckets=TASK_BUCKETS,
)

# Any other method a client invents is one label value, not one each.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@functools.cache
def _child(metric, *values: str):
    """A labelled metric's child for these values, made once: ``labels()`` takes a
    few microseconds a call, this look-up a tenth of one. Every label here has few
    values (a URL pattern, never a path; a movement type, never a SKU)."""
    return metric.labels(*values)


_HOLDS_PLACED = _child(HOLDS, "placed")
_HOLDS_REFUSED = _child(HOLDS, "refused")

# ------------------------------------------------------------ what the apps count


def request_observed(*, route: str, method: str, status: int, seconds: float) -> None:
    """One request answered: counted and timed by route, method and status."""
    if method not in METHODS:
        method = "other"
    status_text = str(status)
    _child(HTTP_REQUESTS, route, method, status_text).inc()
    _child(HTTP_REQUEST_SECONDS, route, method, status_text).observe(seconds)


def hold_placed(*, entries: Mapping[tuple[str, str], int] | None = None) -> None:
    """A new hold was written (not a resend answered with the one it placed), with
    the ledger entries it wrote where no batch counted them (the checkout's one
    server call): one look at the transaction for both, which costs 1.5 µs."""

    def count() -> None:
        _HOLDS_PLACED.inc()
        if entries:
            _movements_count(entries)

    _once_committed(count)


def hold_refused() -> None:
    """A hold was refused for want of stock; it rolled back, and the refusal is
    counted at once."""
    _HOLDS_REFUSED.inc()


def movements_recorded(*, counts: Mapping[tuple[str, str], int]) -> None:
    """A batch's ledger entries, ``(type, status) → entries``."""
    _once_committed(lambda: _movements_count(counts))


def _movements_count(counts: Mapping[tuple[str, str], int]) -> None:
    for (type_, status), number in counts.items():
        _child(STOCK_MOVEMENTS, str(type_), str(status)).inc(number)


def conflicts_raised(*, count: int) -> None:
    _once_committed(lambda: STOCK_CONFLICTS.inc(count))


def exception_case_opened(*, kind: str) -> None:
    _once_committed(_child(EXCEPTION_CASES, str(kind)).inc)


def _once_committed(count: Callable[[], None]) -> None:
    # Outside a transaction (a hold placed on its own has committed already) at
    # once, without on_commit's own look-up of the connection (another 2 µs).
    if connection.in_atomic_block:
        transaction.on_commit(count, robust=True)
    else:
        count()


def webhook_attempted(*, outcome: str) -> None:
    _child(WEBHOOK_ATTEMPTS, outcome).inc()


def webhook_delivered(*, changed_at: datetime) -> None:
    """A change reached its receiver: how long after it was written."""
    WEBHOOK_PUSH_SECONDS.observe(max((timezone.now() - changed_at).total_seconds(), 0))


# ---------------------------------------------------------------- Celery's tasks


def task_observed(*, task: str, outcome: str, seconds: float) -> None:
    """One task run: timed by its name and outcome (its final state, lower case:
    success, failure, retry). Called by ``config.task_context`` as each task ends,
    which times it for its log line too. In a worker the figures reach /metrics
    only when it shares gunicorn's ``PROMETHEUS_MULTIPROC_DIR``
    (docs/operations.md)."""
    _child(TASK_SECONDS, task, outcome).observe(seconds)


# ------------------------------------------------------------ read at scrape time

Reading = Callable[[], Iterable[Metric]]
# Each reading by name, run as a part of the scrape.
_readings: dict[str, Part] = {}


def reading(name: str, *, database: bool = True) -> Callable[[Reading], Reading]:
    """Register a function that reads figures afresh at each scrape and returns
    metric families (``GaugeMetricFamily``), run through ``config.probes`` (one
    that reads the ``database`` in a transaction of its own with a short statement
    timeout, skipped once the database proved unreachable; one that raises is left
    out of the scrape). Apps register theirs from their ``AppConfig.ready``."""

    def register(read: Reading) -> Reading:
        _readings[name] = Part(name, lambda: list(read()), database)
        return read

    return register


class _Readings:
    """A collector of every registered reading, each run apart."""

    def collect(self) -> Iterable[Metric]:
        failed = GaugeMetricFamily(
            "onestock_metrics_reading_failed",
            "1 when a part of this scrape could not be read (the log says why).",
            labels=["reading"],
        )
        parts = (_readings[name] for name in sorted(_readings))
        for answer in parts_run(parts, what="metrics"):
            failed.add_metric([answer.name], 0 if answer.error is None else 1)
            if answer.error is None:
                yield from answer.value
        yield failed


@reading("database")
def _database() -> Iterable[Metric]:
    """Connections to this database by state, and the server's limit (PostgreSQL;
    nothing on SQLite). Without pg_read_all_stats another role's sessions show with
    no state: counted as ``unknown``."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(state, 'unknown'), count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_type = 'client backend' "
            "GROUP BY 1 ORDER BY 1"
        )
        states = cursor.fetchall()
        cursor.execute("SELECT current_setting('max_connections')::int")
        (limit,) = cursor.fetchone()
    used = GaugeMetricFamily(
        "onestock_database_connections",
        "Connections to the database, by state (pg_stat_activity).",
        labels=["state"],
    )
    for state, number in states:
        used.add_metric([state], number)
    return [
        used,
        GaugeMetricFamily(
            "onestock_database_max_connections",
            "The server's max_connections.",
            value=limit,
        ),
    ]


@reading("broker", database=False)
def _broker_queues() -> Iterable[Metric]:
    """Jobs waiting in each queue the back office uses (the queues /readyz watches),
    one pipeline of LLENs through the operators' client of the broker (short
    timeouts); a broker that does not answer is ``onestock_broker_up 0``, not a
    failed scrape. Only Redis (the broker as shipped)."""
    from kombu.transport.redis import PRIORITY_STEPS
    from kombu.transport.redis import Channel as RedisChannel

    client = broker_redis()
    if client is None:
        return []
    queues = queues_used()
    up = GaugeMetricFamily(
        "onestock_broker_up", "1 when the broker (Redis) answered this scrape."
    )
    # A queue is one Redis list per priority step, as kombu keeps it (its _size).
    lists = [
        [
            f"{queue}{RedisChannel.sep}{step}" if step else queue
            for step in PRIORITY_STEPS
        ]
        for queue in queues
    ]
    try:
        with client.pipeline(transaction=False) as pipe:
            for names in lists:
                for name in names:
                    pipe.llen(name)
            sizes = pipe.execute()
    except BROKER_UNREACHABLE as error:
        log.warning("metrics: the broker did not answer: %s", error)
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    waiting = GaugeMetricFamily(
        "onestock_celery_queue_length",
        "Jobs waiting in a Celery queue.",
        labels=["queue"],
    )
    steps = len(PRIORITY_STEPS)
    for number, queue in enumerate(queues):
        waiting.add_metric([queue], sum(sizes[number * steps : (number + 1) * steps]))
    return [up, waiting]


# ------------------------------------------------------------------------ /metrics


class _ThisProcess:
    """prometheus_client's own registry, read as one collector."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


@functools.cache
def _scraped() -> CollectorRegistry:
    """What a scrape reads: every process's files in multiprocess mode (as
    prometheus_client's documentation asks, a registry of its own), else this
    process's registry; then the readings."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(_Readings())
    return registry


def may_scrape(request: HttpRequest) -> bool:
    """The bearer token of ``METRICS_TOKEN`` from anywhere, or no token from
    ``METRICS_ALLOWED_NETWORKS``."""
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer "):
        return hmac.compare_digest(
            sent.removeprefix("Bearer ").encode(), token.encode()
        )
    return _from_allowed_network(request)


def _from_allowed_network(request: HttpRequest) -> bool:
    try:
        client = _scraper_network(request)
        allowed = [
            ipaddress.ip_network(network, strict=False)
            for network in settings.METRICS_ALLOWED_NETWORKS
        ]
    except ValueError:
        return False
    return any(
        client.version == network.version and client.subnet_of(network)
        for network in allowed
    )


def _scraper_network(request: HttpRequest):
    """The scraper's address as the throttles trust it (``TRUSTED_PROXY_COUNT``),
    where an IPv6 client is its /64: that whole network must then be allowed, unless
    it is the peer itself (no proxy in between), whose own address is exact."""
    from .throttling import client_address  # it loads models: config.celery imports us

    client = ipaddress.ip_network(client_address(request), strict=False)
    peer = request.META.get("REMOTE_ADDR", "")
    if client.num_addresses > 1 and ":" in peer:
        if ipaddress.ip_network(f"{peer}/64", strict=False) == client:
            return ipaddress.ip_network(peer)
    return client


@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus's text format, for the monitoring system only: 403 otherwise."""
    if not may_scrape(request):
        return HttpResponse(
            "Metrics are served to the monitoring system only: from an allowed "
            "network, or with its bearer token.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(
        generate_latest(_scraped()), content_type=CONTENT_TYPE_LATEST
    )
    response["Cache-Control"] = "no-store"
    return response
