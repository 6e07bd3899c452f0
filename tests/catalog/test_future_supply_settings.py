"""The retailer decides which SKUs take pre-orders (how many units at most) and which
channels pre-order by default, through the same PUTs that keep the catalogue; a
channel's own integration reads them and cannot change them."""

import pytest
from rest_framework.test import APIClient

from catalog.models import Channel, Sku
from tests.factories import ApiTokenFactory, ChannelFactory, SkuFactory

pytestmark = pytest.mark.django_db


def test_a_sku_takes_pre_orders_up_to_its_limit_and_none_by_default(api):
    created = api.put("/api/v1/skus/TEE-BLK-M/", {"name": "Tee"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["future_promise_limit"] == 0

    limited = api.put(
        "/api/v1/skus/TEE-BLK-M/",
        {"name": "Tee", "future_promise_limit": 250},
        format="json",
    )
    assert limited.status_code == 200, limited.content
    assert limited.json()["future_promise_limit"] == 250
    # Left out: kept.
    api.put("/api/v1/skus/TEE-BLK-M/", {"name": "Tee, black"}, format="json")
    assert Sku.objects.get(code="TEE-BLK-M").future_promise_limit == 250
    assert api.get("/api/v1/skus/TEE-BLK-M/").json()["future_promise_limit"] == 250


@pytest.mark.parametrize("limit", [-1, 1_000_001, "ten", True, None, 2.5])
def test_a_limit_out_of_bounds_is_refused_and_nothing_changes(api, limit):
    SkuFactory(code="TEE-BLK-M", future_promise_limit=5)
    refused = api.put(
        "/api/v1/skus/TEE-BLK-M/",
        {"name": "Tee", "future_promise_limit": limit},
        format="json",
    )
    assert refused.status_code == 400, refused.content
    assert "future_promise_limit" in refused.json()
    assert Sku.objects.get(code="TEE-BLK-M").future_promise_limit == 5


def test_a_channel_pre_orders_by_default_when_told(api):
    created = api.put("/api/v1/channels/web/", {"name": "Web shop"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["allow_future_by_default"] is False

    told = api.put(
        "/api/v1/channels/web/",
        {"name": "Web shop", "allow_future_by_default": True, "sells_from": []},
        format="json",
    )
    assert told.status_code == 200, told.content
    assert told.json()["allow_future_by_default"] is True
    assert Channel.objects.get(code="web").allow_future_by_default is True
    listed = api.get("/api/v1/channels/").json()["results"]
    assert [c["allow_future_by_default"] for c in listed] == [True]

    refused = api.put(
        "/api/v1/channels/web/",
        {"name": "Web shop", "allow_future_by_default": "yes"},
        format="json",
    )
    assert refused.status_code == 400
    assert "allow_future_by_default" in refused.json()
    assert Channel.objects.get(code="web").allow_future_by_default is True


def test_a_channels_own_token_reads_the_settings_but_may_not_write_them():
    ChannelFactory(code="web")
    SkuFactory(code="TEE-BLK-M")
    _, raw = ApiTokenFactory.issue(name="web-shop", channel_code="web")
    web_shop = APIClient()
    web_shop.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

    assert web_shop.get("/api/v1/skus/TEE-BLK-M/").json()["future_promise_limit"] == 0
    sku = web_shop.put(
        "/api/v1/skus/TEE-BLK-M/",
        {"name": "Tee", "future_promise_limit": 100},
        format="json",
    )
    channel = web_shop.put(
        "/api/v1/channels/web/",
        {"name": "Web", "allow_future_by_default": True},
        format="json",
    )
    assert (sku.status_code, channel.status_code) == (403, 403)
    assert Sku.objects.get(code="TEE-BLK-M").future_promise_limit == 0
    assert Channel.objects.get(code="web").allow_future_by_default is False
