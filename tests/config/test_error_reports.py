"""A bug in production reaches Sentry when SENTRY_DSN is set, tagged with the id the
client was answered, and nothing is sent when it is not (config/error_reports.py).
Sentry's HTTP sender is replaced by a fake that keeps what it was given."""

import subprocess
import sys
from pathlib import Path

import pytest
import sentry_sdk
from sentry_sdk.transport import Transport

from config.error_reports import error_reports_start

ROOT = Path(__file__).resolve().parents[2]


class Kept(Transport):
    """Sentry's transport, keeping each envelope instead of sending it."""

    envelopes: list = []

    def capture_envelope(self, envelope) -> None:
        Kept.envelopes.append(envelope)


@pytest.fixture
def reporting():
    Kept.envelopes = []
    assert error_reports_start(
        dsn="https://public@sentry.example.invalid/1",
        environment="test",
        transport=Kept,
    )
    yield Kept.envelopes
    sentry_sdk.get_client().close()
    # No client with integrations stays behind for the rest of this process.
    sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)


def events(envelopes) -> list[dict]:
    return [
        item.payload.json
        for envelope in envelopes
        for item in envelope.items
        if item.type == "event"
    ]


def test_a_bug_behind_a_screen_reaches_sentry_with_its_request_id(
    reporting, client, settings, db
):
    settings.ROOT_URLCONF = "tests.config.failing_urls"
    client.raise_request_exception = False
    answer = client.get("/store/totals/")
    assert answer.status_code == 500
    sentry_sdk.flush()
    (event,) = events(reporting)
    (exception,) = event["exception"]["values"]
    assert exception["type"] == "ZeroDivisionError"
    assert event["tags"]["request_id"] == answer["X-Request-ID"]
    assert event["environment"] == "test"
    assert "user" not in event or "ip_address" not in event.get("user", {})


def test_a_refusal_is_not_an_error_to_report(reporting, client, db):
    assert client.get("/api/v1/orders/").status_code in (401, 403)
    sentry_sdk.flush()
    assert events(reporting) == []


def test_without_a_dsn_nothing_is_started():
    assert error_reports_start(dsn="", environment="production") is False
    started = subprocess.run(
        [
            sys.executable, "-c",
            "import django, os, sentry_sdk;"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
            "django.setup(); print(sentry_sdk.get_client().is_active())",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "SENTRY_DSN": "", "LOG_FORMAT": "text"},
    )  # fmt: skip
    assert started.stdout.strip().splitlines()[-1] == "False", started.stderr
