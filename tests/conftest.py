"""Shared fixtures: API clients as an integration or as staff, a real Celery worker,
browsers; the PostgreSQL check, and the order tests run in when spread over processes
(pytest-xdist, `make test`)."""

import os
import re
import subprocess
import sys
import uuid
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    StaffFactory,
)

ROOT = Path(__file__).resolve().parents[1]
# Set by tests/demo/test_sqlite.py for its run of the stories marked sqlite_too on the
# demo's database engine; every other run is on PostgreSQL.
SQLITE_RUN = "ONESTOCK_TESTS_ON_SQLITE"


def pytest_configure(config):
    """Passwords hashed cheaply; tests spread only as `--dist load` hands them out;
    one clear line when PostgreSQL cannot be reached, not a wall of errors."""
    import psycopg
    from django.conf import settings

    # A password is hashed at full strength in a fifth of a second of CPU; the shared
    # shop alone makes four members of staff for each of its hundreds of tests. What
    # is tested is who may sign in and act, not the hash: the cheapest one will do.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if getattr(config.option, "dist", "no") not in ("no", "load", "each"):
        raise pytest.UsageError(
            "Spread the tests with --dist load: each process must run the tests that "
            "commit after the others (pytest_collection_modifyitems, tests/conftest.py)."
        )
    database = settings.DATABASES["default"]
    if os.environ.get(SQLITE_RUN) and database["ENGINE"].endswith("sqlite3"):
        return  # the stories marked sqlite_too, as tests/demo/test_sqlite.py runs them
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.exit(
            f"The tests run on PostgreSQL, but DATABASE_URL points at {database['ENGINE']}.",
            returncode=2,
        )
    try:
        psycopg.connect(
            host=database["HOST"] or "127.0.0.1",
            port=database["PORT"] or 5432,
            user=database["USER"],
            password=database["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError:
        where = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
        pytest.exit(
            f"PostgreSQL is not reachable at {where}: start it with ../shared/services-up "
            "(or pg_ctlcluster 15 main start), or set DATABASE_URL.",
            returncode=2,
        )


# The few stories that take tens of seconds each (a nested pytest, schemathesis over
# every operation, simulated days, the demo seeded). Only an order: a stale entry
# costs nothing but a later start.
LONG = (
    "tests/demo/test_sqlite.py",
    "tests/api/test_contract.py::test_schemathesis",
    "tests/simulation/",
    "tests/demo/test_seed_demo.py",
    "tests/api/test_deployment.py",
    "tests/ops/",
    "tests/config/test_outage.py",
)
# Stories that wait on another process: a Celery worker, a browser, a live server.
WAITING = {"celery_worker", "browser", "live_server"}


def _transactional(item) -> bool:
    """What pytest-django runs after every other database test, as Django does."""
    marker = item.get_closest_marker("django_db")
    if marker and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    ):
        return True
    committing = {"transactional_db", "django_db_reset_sequences", "live_server"}
    return bool(committing & set(item.fixturenames))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Spread over workers (`make test`: pytest-xdist, `--dist load`, one test handed
    out at a time), the longest start first, so none is left running alone at the
    end. A story that commits empties every table as it ends, the rows migrations
    wrote too (the beat jobs): on each worker those run after the others, as in one
    process, and tests are handed out in this order."""
    if not hasattr(config, "workerinput"):
        return

    def rank(item):
        committing = _transactional(item)
        if item.nodeid.startswith(LONG):
            return (committing, 0)
        return (committing, 1 if WAITING & set(item.fixturenames) else 2)

    items.sort(key=rank)


@pytest.fixture
def api_token(db):
    """An integration token bound to no channel, with its raw value."""
    return ApiTokenFactory.issue(name="erp")


@pytest.fixture
def api(api_token):
    """An API client authenticated as an integration that may act for any channel."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token[1]}")
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def web_channel(db):
    return ChannelFactory(code="web", name="Web shop", kind="web")


def client_for(raw_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw_token}")
    return client


@pytest.fixture(autouse=True)
def _no_subscriptions_remembered():
    """Whether anyone subscribes to webhooks is remembered per process for a few
    seconds; a test starts from its own database, not the last test's."""
    from sync import receivers

    receivers._subscribed = None


@pytest.fixture(autouse=True)
def _no_failed_tokens_remembered():
    """Failed API tokens are counted per address (in this process's memory under
    pytest, config/throttling.py); every test's client is 127.0.0.1, so each starts
    from none. Failed sign-ins are rows in the test's database, gone with it."""
    from config.throttling import throttles_reset

    throttles_reset()


@pytest.fixture(autouse=True)
def _broker_trusted_again():
    """A test that took the broker away opened the circuit (config/broker.py) in
    this process; the next test starts with it closed."""
    from config.broker import broker_circuit_close

    broker_circuit_close()


@pytest.fixture
def worker_env():
    """Settings the worker process is started with (environment variables); a test
    package overrides this fixture to give its worker shorter clocks."""
    return {}


@pytest.fixture
def worker_pool():
    """The worker's pool: one task at a time unless a test needs several at once
    (tests/sync/test_webhook_isolation.py overrides it)."""
    return ["--pool=solo"]


@pytest.fixture
def celery_worker(tmp_path, worker_env, worker_pool):
    """A real worker process on Redis, against the test database, listening on a
    queue of its own so no other worker can take the test's task. Its node name is
    the queue's: tests run side by side (pytest-xdist) each start one on the same
    broker, and Celery's control messages address a worker by that name."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings = connection.settings_dict
    database = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        **worker_env,
    }
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", *worker_pool,
            "-Q", queue, "--hostname", f"{queue}@%h", "--without-mingle",
            "--without-gossip", "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield queue
        assert worker.poll() is None, log.read_text()[-2000:]
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.fixture
def shop(db):
    """A small shop floor: Oxford Street with two members of staff (Alice, Bob),
    Camden with one (Carol), a manager over every store (Maria), three SKUs and
    the web shop."""

    def store(code, name, lat, lon):
        return LocationFactory(
            code=code,
            name=name,
            latitude=Decimal(str(lat)),
            longitude=Decimal(str(lon)),
            pickup_enabled=True,
            ship_from_store_enabled=True,
            opens_at=time(0, 0),
            pickup_cutoff=time(23, 59),
            pickup_preparation_minutes=60,
        )

    oxford = store("LON-OXF", "Oxford Street", 51.5154, -0.1420)
    camden = store("LON-CAM", "Camden", 51.5390, -0.1426)
    return {
        "oxford": oxford,
        "camden": camden,
        "tee": SkuFactory(
            code="TEE-BLK-M", name="Tee black M", barcode="5012345678900"
        ),
        "hoodie": SkuFactory(code="HOOD-GRE-L", name="Hoodie green L"),
        "polo": SkuFactory(code="POLO-BLU-M", name="Polo blue M"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=0),
        "alice": StaffFactory.at(oxford, username="alice", first_name="Alice"),
        "bob": StaffFactory.at(oxford, username="bob", first_name="Bob"),
        "carol": StaffFactory.at(camden, username="carol", first_name="Carol"),
        "maria": StaffFactory.at(username="maria", first_name="Maria", manager=True),
    }


# Real-browser screens: Debian's Chromium driven by Playwright, at a tablet's size.
CHROMIUM = "/usr/bin/chromium"
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}
TILL_PC = {"width": 1024, "height": 768}
OUTPUT = ROOT / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread; the test's own
    # database reads between steps are plain synchronous calls. Only for these
    # tests: the flag must not leak into anything else this process starts.
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"No Chromium at {CHROMIUM}: install it with `make browsers`.")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox"]
            )
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def _screen(browser, live_server, request, viewport):
    context = browser.new_context(viewport=viewport, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    shots = OUTPUT / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    counter = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(path=shots / f"{next(counter):02d}-{name}.png", full_page=True)

    page.shot = shot
    return context, page


@pytest.fixture
def tablet(browser, live_server, request):
    context, page = _screen(browser, live_server, request, TABLET)
    yield page
    context.close()


@pytest.fixture
def phone(browser, live_server, request):
    """A store phone held in one hand (390 x 844)."""
    context, page = _screen(browser, live_server, request, PHONE)
    yield page
    context.close()


@pytest.fixture
def till_pc(browser, live_server, request):
    """A till PC or a small laptop (1024 x 768)."""
    context, page = _screen(browser, live_server, request, TILL_PC)
    yield page
    context.close()


def go_to(page, screen: str) -> None:
    """Follow a link of the header as the screen's width shows it: behind "Menu" on
    a phone or an upright tablet, behind "More" for the screens used less often."""
    menu = page.get_by_role("link", name="Menu", exact=True)
    if menu.is_visible():
        menu.click()
    nav = page.get_by_role("navigation", name="Screens")
    link = nav.get_by_role("link", name=screen, exact=True)
    if not link.is_visible():
        nav.get_by_text("More", exact=True).click()
    link.click()


def scan(page, code: str) -> None:
    """What a barcode scanner does: types the code fast where the focus is, then
    Enter. No click: a scan lands only where the screen put the focus."""
    page.keyboard.type(code, delay=8)
    page.keyboard.press("Enter")


def axe_clean(page) -> None:
    """No serious or critical finding of axe-core (its own script, shipped inside
    the axe-playwright-python package and run in the page: nothing fetched)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    grave = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
    assert not grave, "\n".join(grave)


def no_sideways_scroll(page) -> None:
    """The page fits its screen's width: nothing to scroll sideways."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= page.viewport_size["width"], f"{wide}px wide"


def sign_in_by_keyboard(page, username: str) -> None:
    """Sign in with the keyboard alone: the name, Tab, the password, Enter."""
    from playwright.sync_api import expect

    page.goto("/store/")
    page.get_by_label("Username").focus()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(StaffFactory.PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Pickup queue"))).to_be_visible()


def sign_in(page, username: str, lands_on: str = "Pickup queue") -> None:
    """Sign in through the login page, as a member of staff does."""
    from playwright.sync_api import expect

    page.goto("/store/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(StaffFactory.PASSWORD)
    page.shot("sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile(lands_on))).to_be_visible()
