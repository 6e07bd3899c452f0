"""gunicorn settings as shipped: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Threads with keep-alive: an integration's HTTP client holds its connection open, so a
request does not pay for a new TCP connection (sync workers close after each). On 2
cores, bench/hot_sku.py measured 249 holds/s against 193 with sync workers
(docs/performance.md)."""

import multiprocessing

bind = "127.0.0.1:8000"
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "gthread"
threads = 4
keepalive = 30
timeout = 30
