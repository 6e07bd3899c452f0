"""An integrator keeps the catalogue's SKUs in step with its own system."""

import pytest

from catalog.models import Sku
from tests.factories import ProductFactory, SkuFactory

pytestmark = pytest.mark.django_db


def test_an_integrator_creates_a_sku_then_updates_it(api):
    created = api.put(
        "/api/v1/skus/TSHIRT-BLU-M/", {"name": "T-shirt blue M"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["code"] == "TSHIRT-BLU-M"
    assert created.json()["barcode"] == ""
    assert created.json()["is_active"] is True

    updated = api.put(
        "/api/v1/skus/TSHIRT-BLU-M/", {"name": "T-shirt, blue, M"}, format="json"
    )
    assert updated.status_code == 200
    assert Sku.objects.get(code="TSHIRT-BLU-M").name == "T-shirt, blue, M"


def test_an_update_keeps_the_fields_it_does_not_mention(api):
    ProductFactory(code="TEE")
    full = {
        "name": "Tee white S",
        "product": "TEE",
        "barcode": "5012345000015",
        "attributes": {"colour": "white", "size": "S"},
    }
    assert api.put("/api/v1/skus/TEE-WHI-S/", full, format="json").status_code == 201

    api.put("/api/v1/skus/TEE-WHI-S/", {"name": "Tee, white, S"}, format="json")

    sku = Sku.objects.get(code="TEE-WHI-S")
    assert (sku.product.code, sku.barcode, sku.attributes["size"]) == (
        "TEE",
        "5012345000015",
        "S",
    )
    assert sku.name == "Tee, white, S"


def test_a_sku_can_leave_its_product_and_drop_its_barcode(api):
    SkuFactory(code="MUG-1", product=ProductFactory(code="MUG"), barcode="96385074")
    response = api.put(
        "/api/v1/skus/MUG-1/",
        {"name": "Mug", "product": None, "barcode": ""},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["product"] is None
    assert response.json()["barcode"] == ""


def test_the_sku_list_is_paginated_and_filterable(api):
    tee = ProductFactory(code="TEE")
    for size in ["S", "M", "L"]:
        SkuFactory(code=f"TEE-{size}", name=f"Tee {size}", product=tee)
    SkuFactory(code="SOCK-1", name="Sock", product=ProductFactory(code="SOCK"))

    page = api.get("/api/v1/skus/", {"page_size": 2}).json()
    assert page["count"] == 4
    assert len(page["results"]) == 2
    assert page["next"]

    tees = api.get("/api/v1/skus/", {"product": "TEE"}).json()
    assert [row["code"] for row in tees["results"]] == ["TEE-L", "TEE-M", "TEE-S"]
    assert api.get("/api/v1/skus/", {"search": "sock"}).json()["count"] == 1
    newest_first = api.get("/api/v1/skus/", {"ordering": "-code"}).json()["results"]
    assert newest_first[0]["code"] == "TEE-S"


def test_a_sku_is_read_by_its_code(api):
    SkuFactory(code="TEE-M", name="Tee M")
    assert api.get("/api/v1/skus/TEE-M/").json()["name"] == "Tee M"
    assert api.get("/api/v1/skus/NOPE/").status_code == 404


def test_listing_skus_costs_the_same_queries_for_many_rows(
    api, django_assert_max_num_queries
):
    for n in range(30):
        SkuFactory(code=f"SKU-{n}")
    # token lookup, last-used touch, count, page, the page's kit components
    with django_assert_max_num_queries(5):
        assert api.get("/api/v1/skus/").status_code == 200


def test_two_skus_cannot_share_a_barcode(api):
    SkuFactory(code="TEE-S", barcode="5012345000015")
    response = api.put(
        "/api/v1/skus/TEE-M/",
        {"name": "Tee M", "barcode": "5012345000015"},
        format="json",
    )
    assert response.status_code == 400
    assert "TEE-S" in response.json()["barcode"][0]
    assert not Sku.objects.filter(code="TEE-M").exists()


@pytest.mark.parametrize(
    "barcode, message",
    [
        ("5012345000016", "check digit"),
        ("50123450000X5", "digits only"),
        ("12345", "8, 12, 13 or 14"),
        ("٥٠١٢٣٤٥٠٠٠٠١٥", "digits only"),
    ],
)
def test_a_misread_barcode_is_refused(api, barcode, message):
    response = api.put(
        "/api/v1/skus/TEE-S/", {"name": "Tee", "barcode": barcode}, format="json"
    )
    assert response.status_code == 400
    assert message in response.json()["barcode"][0]
    assert not Sku.objects.exists()


def test_an_unknown_product_is_refused(api):
    response = api.put(
        "/api/v1/skus/TEE-S/", {"name": "Tee", "product": "GHOST"}, format="json"
    )
    assert response.status_code == 400
    assert "GHOST" in response.json()["product"][0]
