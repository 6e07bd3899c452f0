# The two commands: `make demo` and `make test` (its browser: `make browsers`, once).
# Each installs first (quick when done).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_URL := http://127.0.0.1:8000/
export DATABASE_URL_TEST ?= postgres://postgres@127.0.0.1:5432/onestock

.PHONY: install demo browsers test simulate bench bench-full lint clean up down smoke

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

# The demo runs on its own SQLite file with debug on; it never touches PostgreSQL.
demo: export DATABASE_URL = sqlite:///$(CURDIR)/demo.sqlite3
demo: export DJANGO_DEBUG = 1
demo: export CELERY_TASK_ALWAYS_EAGER = 1
# One server process, which may run without Redis: failed tokens counted in memory.
demo: export THROTTLE_STORAGE_URL ?= memory://
# The demo's tills fall silent once it is seeded; a day keeps "delayed" for real delays.
demo: export ONESTOCK_POS_DELAY_SECONDS ?= 86400
# Its history is loaded at once: weeks between occurred-at and recorded-at are not lag.
demo: export SYNC_ESTIMATED_LAG_SECONDS ?= 31536000
demo: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo --url $(DEMO_URL)
	$(PY) manage.py runserver 127.0.0.1:8000 --noreload

# The browser tests drive Debian's Chromium: `make browsers` installs it when missing
# (apt-get, as root). `make test` does not: without it those tests fail, saying so.
CHROMIUM := /usr/bin/chromium

browsers:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
		apt-get install -y -qq chromium >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq chromium; }; }

# The suite in TEST_WORKERS processes side by side (pytest-xdist), each on a database
# of its own (test_<name>_gw0, _gw1, ...): one more than the cores, as many tests wait
# on a browser, a Celery worker or PostgreSQL's disk. Tests are handed out one at a
# time as a process frees up, the longest first (tests/conftest.py). TEST_WORKERS=0
# runs them in this one process; TEST_ARGS narrows the run (a folder, a file, -k).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
TEST_ARGS ?=

test: install
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} $(VENV)/bin/pytest -q \
		-n $(TEST_WORKERS) --dist load --maxschedchunk 1 $(TEST_ARGS)

# A simulated trading day, every policy compared (docs/simulation.md): about 25 minutes.
simulate: install
	DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_TEST)} $(PY) manage.py simulate --compare

# Benchmarks against raw SQL on this machine (docs/performance.md): a few minutes.
# bench-full uses the sizes quoted in the docs (a million ledger entries).
bench: install
	$(PY) -m bench.hot_sku --seconds 3
	$(PY) -m bench.ingest --entries 200000 --seconds 5 --posters 1 2 --reads 100
	$(PY) -m bench.rebuild --entries 200000
	$(PY) -m bench.reconcile --entries 500000 --balances 50000 --snapshot-rows 20000
	$(PY) -m bench.dashboard --skus 500 --locations 100 --entries 500000
	$(PY) -m bench.transfer_proposals --stores 20 --skus 5000
	$(PY) -m bench.imports --skus 2000
	$(PY) -m bench.routing
	$(PY) -m bench.push_latency --sales 300
	$(PY) -m bench.mixed
	$(PY) -m bench.reads --replica

bench-full: install
	$(PY) -m bench.hot_sku --seconds 5
	$(PY) -m bench.ingest
	$(PY) -m bench.rebuild --entries 1000000
	$(PY) -m bench.reconcile
	$(PY) -m bench.dashboard
	$(PY) -m bench.transfer_proposals
	$(PY) -m bench.imports
	$(PY) -m bench.routing --repeat 200
	$(PY) -m bench.push_latency
	$(PY) -m bench.mixed --seconds 10
	$(PY) -m bench.reads --seconds 10 --replica

# The whole system as production runs it, on this machine's PostgreSQL and Redis
# (ops/up.py): gunicorn with the shipped config, a Celery worker and beat, debug off,
# on database onestock_up; waits for /readyz. Run state and logs in .run/. Settings:
# UP_PORT (8080), UP_DATABASE_URL, UP_QUEUE, UP_WORKERS, UP_RUN_DIR.
up: install
	$(PY) -m ops.up up

# Stops everything `make up` started (SIGTERM, then SIGKILL after 40 s); idempotent.
down:
	$(PY) -m ops.up down

# The acceptance stories over HTTP against the running system (ops/smoke.py): a hold,
# an order, a signed webhook sent by the worker, a hold expired by beat (up to ~2 min).
smoke: install
	$(PY) -m ops.smoke

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) demo.sqlite3 staticfiles
