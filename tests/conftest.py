"""Shared fixtures: API clients as an integration or as staff, and the PostgreSQL check."""

import pytest
from rest_framework.test import APIClient

from tests.factories import ApiTokenFactory, ChannelFactory


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
