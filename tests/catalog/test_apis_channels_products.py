"""An integrator sets up the sales channels and the products SKUs belong to."""

import pytest

from catalog.models import Channel, Product
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_a_channel_starts_with_sensible_defaults(api):
    response = api.put("/api/v1/channels/web/", {"name": "Web shop"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "web"
    assert body["safety_buffer"] == 0
    assert body["reservation_ttl_seconds"] == 900


def test_a_marketplace_channel_holds_back_a_safety_buffer(api):
    response = api.put(
        "/api/v1/channels/marketplace/",
        {
            "name": "Marketplace",
            "kind": "marketplace",
            "safety_buffer": 5,
            "reservation_ttl_seconds": 1800,
        },
        format="json",
    )
    assert response.status_code == 201
    channel = Channel.objects.get(code="marketplace")
    assert (channel.safety_buffer, channel.reservation_ttl_seconds) == (5, 1800)

    response = api.put(
        "/api/v1/channels/marketplace/",
        {"name": "Marketplace", "safety_buffer": 3},
        format="json",
    )
    assert response.status_code == 200
    channel.refresh_from_db()
    assert (channel.safety_buffer, channel.reservation_ttl_seconds) == (3, 1800)


def test_channels_are_listed_and_filtered_by_kind(api):
    ChannelFactory(code="pos", kind="store_pos")
    ChannelFactory(code="web", kind="web")
    body = api.get("/api/v1/channels/", {"kind": "store_pos"}).json()
    assert [row["code"] for row in body["results"]] == ["pos"]


def test_a_product_is_created_then_renamed(api):
    created = api.put(
        "/api/v1/products/TEE/",
        {"name": "T-shirt", "brand": "Northfold"},
        format="json",
    )
    assert created.status_code == 201
    renamed = api.put(
        "/api/v1/products/TEE/", {"name": "Organic T-shirt"}, format="json"
    )
    assert renamed.status_code == 200
    product = Product.objects.get(code="TEE")
    assert (product.name, product.brand) == ("Organic T-shirt", "Northfold")
    assert api.get("/api/v1/products/", {"brand": "Northfold"}).json()["count"] == 1
