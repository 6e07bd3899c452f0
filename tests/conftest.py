"""Shared fixtures: API clients as an integration or as staff, a real Celery worker,
and the PostgreSQL check."""

import os
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


def pytest_configure(config):
    """Stop with one clear line when PostgreSQL cannot be reached, not a wall of errors."""
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
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


@pytest.fixture
def celery_worker(tmp_path):
    """A real worker process on Redis, against the test database, listening on a
    queue of its own so no other worker can take the test's task."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    settings = connection.settings_dict
    database = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": database, "CELERY_TASK_ALWAYS_EAGER": "0"}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
            "-Q", queue, "--without-mingle", "--without-gossip", "--loglevel=INFO",
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
