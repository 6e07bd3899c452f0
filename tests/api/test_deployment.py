"""With debug off the app passes Django's deployment checks, except the HTTPS settings
that the proxy in front owns, and the admin serves every model to staff."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.factories import ApiTokenFactory, ChannelFactory, LocationFactory, SkuFactory

ROOT = Path(__file__).resolve().parents[2]
PROXY_OWNED = {"security.W004", "security.W008"}


def test_deploy_checks_are_clean_apart_from_what_the_proxy_owns():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "stock.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    reported = {
        line.split("(", 1)[1].split(")", 1)[0]
        for line in result.stderr.splitlines()
        if line.startswith("?: (") or ": (" in line
    }
    assert reported <= PROXY_OWNED, result.stderr


def run_with_debug_off_and_no_secret_key(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": ""}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_secret_key_the_app_refuses_to_serve_but_tooling_still_runs():
    serving = run_with_debug_off_and_no_secret_key("-c", "import config.wsgi")
    assert serving.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in serving.stderr

    deploy_check = run_with_debug_off_and_no_secret_key(
        "manage.py", "check", "--deploy"
    )
    assert "security.W009" in deploy_check.stderr

    migrations = run_with_debug_off_and_no_secret_key(
        "manage.py", "makemigrations", "--check", "--dry-run"
    )
    assert migrations.returncode == 0, migrations.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model_path",
    [
        "catalog/product",
        "catalog/sku",
        "catalog/channel",
        "inventory/location",
        "inventory/stockmovement",
        "inventory/stockbalance",
        "inventory/stockconflict",
        "integrations/apitoken",
    ],
)
def test_staff_find_every_record_in_the_admin(client, model_path):
    manager = get_user_model().objects.create_superuser(
        "manager", password="pw-123456!"
    )
    client.force_login(manager)
    sku = SkuFactory(code="TEE-S", barcode="5012345000015")
    ChannelFactory(code="web")
    LocationFactory(code="LON-OXF")
    ApiTokenFactory.issue(name="erp")

    changelist = client.get(f"/admin/{model_path}/", {"q": "e"})
    assert changelist.status_code == 200
    if model_path == "catalog/sku":
        assert client.get(f"/admin/catalog/sku/{sku.pk}/change/").status_code == 200


def test_the_login_page_and_health_check_are_served(client, db):
    assert client.get("/login/").status_code == 200
    assert client.get("/").status_code == 302
    assert client.get("/healthz").json() == {"status": "ok"}


def test_the_celery_app_reads_its_broker_from_the_settings(settings):
    from config import celery_app

    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
    assert celery_app.main == "onestock"
