"""gunicorn settings as shipped: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Threads with keep-alive: an integration's HTTP client holds its connection open, so a
request does not pay for a new TCP connection (sync workers close after each). On 2
cores, bench/hot_sku.py measured 249 holds/s against 193 with sync workers
(docs/performance.md).

Metrics (config/metrics.py): each worker process writes its figures to a file of its
own in ``PROMETHEUS_MULTIPROC_DIR``, and /metrics, whichever worker answers it, adds
up every file there (prometheus_client's multiprocess mode). Without the variable a
folder of this server's own is made (and removed when it stops). A Celery worker on
the same machine started with the same ``PROMETHEUS_MULTIPROC_DIR`` writes there
too, and its tasks' durations and webhook attempts are scraped with the rest: give
both the same folder (a tmpfs is best: every count writes to a mapped file).
At start the folder is cleared of the files of processes no longer running; a
worker that exits leaves its counts (they stay in the totals) and only its live
gauges are dropped (``mark_process_dead``)."""

import gc
import multiprocessing
import os
import re
import shutil
import tempfile

# Before anything imports prometheus_client: it chooses its mode on import, and the
# workers inherit the variable.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="onestock-metrics-"
    )
    os.environ["ONESTOCK_METRICS_DIR_MADE"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
METRICS_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"]

bind = "127.0.0.1:8000"
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "gthread"
threads = 4
keepalive = 30
timeout = 30


def post_worker_init(worker):
    """Import every view, then set what is loaded so far aside from the garbage
    collector: it holds no cycles worth finding, and a full collection otherwise walks
    all of Django's hundred thousand objects again and again under load. A hold
    through the API spends some 13 % less CPU (docs/performance.md)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the URLconf and its views)
    gc.freeze()


def on_starting(server):
    """Clear the metrics folder of every file whose process has gone: a scrape would
    add up a previous run's counts (the Celery worker's, if it runs, stay)."""
    os.makedirs(METRICS_DIR, exist_ok=True)
    for name in os.listdir(METRICS_DIR):
        found = re.search(r"_(\d+)\.db$", name)
        if found is None or not _running(int(found.group(1))):
            os.remove(os.path.join(METRICS_DIR, name))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIR)


def on_exit(server):
    if os.environ.get("ONESTOCK_METRICS_DIR_MADE") == METRICS_DIR:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
