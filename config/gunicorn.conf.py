"""gunicorn settings as shipped: ``gunicorn -c config/gunicorn.conf.py config.wsgi``.

Measured on 2 cores by bench/hot_sku.py (docs/performance.md)."""

import multiprocessing

bind = "127.0.0.1:8000"
workers = multiprocessing.cpu_count() * 2 + 1
worker_class = "sync"
timeout = 30
