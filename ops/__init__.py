"""Running the whole system on this machine as production runs it: ``make up``,
``make smoke``, ``make down`` (ops/up.py, ops/smoke.py)."""
