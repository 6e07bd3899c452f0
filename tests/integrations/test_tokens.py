"""Integrations authenticate with their own tokens; nobody else gets in."""

import hashlib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from catalog.models import Channel
from integrations.models import ApiToken
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, ChannelFactory, SkuFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_an_anonymous_caller_is_refused(anonymous):
    response = anonymous.get("/api/v1/skus/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert (
        anonymous.put("/api/v1/skus/X/", {"name": "x"}, format="json").status_code
        == 401
    )


@pytest.mark.parametrize(
    "header",
    [
        "Token not-a-real-token",
        "Token ",
        "Token two parts",
        "Bearer abc",
        "Token \u00e9t\u00e9",
    ],
)
def test_a_bogus_token_is_refused(anonymous, header, api_token):
    SkuFactory(code="TEE-S")
    anonymous.credentials(HTTP_AUTHORIZATION=header)
    assert anonymous.get("/api/v1/skus/").status_code == 401


def test_a_revoked_token_stops_working_at_once(api_token):
    token, raw = api_token
    client = client_for(raw)
    assert client.get("/api/v1/skus/").status_code == 200
    call_command("revoke_api_token", token.name, stdout=StringIO())
    assert client.get("/api/v1/skus/").status_code == 401


def test_a_token_is_read_once_then_kept_for_a_few_seconds(api_token, monkeypatch):
    """Every call names its token; the server reads it from the database once, then
    keeps it. Revoked behind this process's back (another server, the admin form),
    it is refused as soon as the few seconds are up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations import selectors

    token, raw = api_token
    client = client_for(raw)
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    assert client.get("/api/v1/channels/").status_code == 200
    with CaptureQueriesContext(connection) as read:
        assert client.get("/api/v1/channels/").status_code == 200
    assert not [q for q in read.captured_queries if "apitoken" in q["sql"]]

    ApiToken.objects.filter(pk=token.pk).update(revoked_at="2026-01-01T00:00:00Z")
    clock[0] += 1
    assert client.get("/api/v1/channels/").status_code == 200
    clock[0] += 5
    assert client.get("/api/v1/channels/").status_code == 401


def test_the_token_command_prints_the_token_alone_on_its_last_line():
    ChannelFactory(code="pos", kind="store_pos")
    out = StringIO()
    call_command("create_api_token", "till-integration", "--channel", "pos", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]

    token = ApiToken.objects.get(name="till-integration")
    assert token.channel.code == "pos"
    assert raw not in (token.digest, token.prefix)
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert client_for(raw).get("/api/v1/channels/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_token_command_refuses_an_unknown_channel_and_a_live_name(api_token):
    with pytest.raises(CommandError, match="No channel"):
        call_command("create_api_token", "x", "--channel", "nowhere", stdout=StringIO())
    with pytest.raises(CommandError, match="exists"):
        call_command("create_api_token", api_token[0].name, stdout=StringIO())
    assert ApiToken.objects.count() == 1


def test_a_channel_bound_token_reads_channels_but_writes_none(db):
    ChannelFactory(code="pos", name="Tills", kind="store_pos")
    ChannelFactory(code="web", name="Web", kind="web")
    _, raw = ApiTokenFactory.issue(name="till", channel_code="pos")
    till = client_for(raw)

    for code, name in [("pos", "Store tills"), ("web", "Hijacked"), ("new", "New")]:
        refused = till.put(f"/api/v1/channels/{code}/", {"name": name}, format="json")
        assert refused.status_code == 403
        assert refused.json()["code"] == "channel_not_permitted"
    assert Channel.objects.get(code="pos").name == "Tills"
    assert Channel.objects.get(code="web").name == "Web"
    assert not Channel.objects.filter(code="new").exists()
    assert till.get("/api/v1/channels/").status_code == 200


def test_an_unbound_token_may_act_for_any_channel(api):
    ChannelFactory(code="web", kind="web")
    assert (
        api.put("/api/v1/channels/web/", {"name": "Web"}, format="json").status_code
        == 200
    )
    assert (
        api.put("/api/v1/channels/app/", {"name": "App"}, format="json").status_code
        == 201
    )


def test_a_manager_uses_the_api_with_their_login_but_staff_without_a_role_do_not(db):
    user_model = get_user_model()
    manager = StaffFactory.at(username="manager", manager=True)
    admin_only = user_model.objects.create_user(
        "clerk", password="pw-123456!", is_staff=True
    )
    shopper = user_model.objects.create_user("shopper", password="pw-123456!")

    staff = APIClient()
    staff.force_login(manager)
    assert staff.get("/api/v1/skus/").status_code == 200

    for user in (admin_only, shopper):
        someone = APIClient()
        someone.force_login(user)
        refused = someone.get("/api/v1/skus/")
        assert refused.status_code == 403
        assert refused.json()["code"] == "scope_missing"
