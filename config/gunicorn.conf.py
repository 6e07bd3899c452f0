"""gunicorn settings as shipped: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Threads with keep-alive: an integration's HTTP client holds its connection open, so a
request does not pay for a new TCP connection (sync workers close after each). On 2
cores, bench/hot_sku.py measured 249 holds/s against 193 with sync workers
(docs/performance.md)."""

import gc
import multiprocessing

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
