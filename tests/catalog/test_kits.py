"""A retailer defines its kits: a camera body with its lens sold as one SKU, while the
shelves hold the parts."""

import pytest

from catalog.models import KitComponent, Sku
from tests.factories import LocationFactory, SkuFactory, kit, stock

pytestmark = pytest.mark.django_db

URL = "/api/v1/skus/{code}/"


@pytest.fixture
def parts():
    return SkuFactory(code="LENS-50"), SkuFactory(code="BODY-X")


def test_a_kit_is_defined_by_its_components_and_reads_back(api, parts):
    answer = api.put(
        URL.format(code="CAM-KIT"),
        {
            "name": "Camera with lens",
            "components": [
                {"sku": "LENS-50", "quantity": 1},
                {"sku": "BODY-X", "quantity": 1},
            ],
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["is_kit"] is True
    assert body["components"] == [
        {"sku": "BODY-X", "quantity": 1},
        {"sku": "LENS-50", "quantity": 1},
    ]
    read = api.get(URL.format(code="CAM-KIT")).json()
    assert read["components"] == body["components"]


def test_the_same_component_twice_is_one_component_summed(api, parts):
    answer = api.put(
        URL.format(code="TWIN-LENS"),
        {
            "name": "Two lenses",
            "components": [
                {"sku": "LENS-50", "quantity": 1},
                {"sku": "LENS-50", "quantity": 1},
            ],
        },
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["components"] == [{"sku": "LENS-50", "quantity": 2}]
    assert KitComponent.objects.get().quantity == 2


def test_a_component_cannot_be_a_kit_nor_a_kit_a_component(api, parts):
    lens, body = parts
    kit("CAM-KIT", (lens, 1), (body, 1))
    nested = api.put(
        URL.format(code="BUNDLE"),
        {"name": "Bundle", "components": [{"sku": "CAM-KIT", "quantity": 1}]},
        format="json",
    )
    assert nested.status_code == 400
    assert "CAM-KIT is a kit" in str(nested.json())
    assert not Sku.objects.filter(code="BUNDLE").exists()  # nothing half-written
    inside = api.put(
        URL.format(code="LENS-50"),
        {"name": "Lens", "components": [{"sku": "BODY-X", "quantity": 1}]},
        format="json",
    )
    assert inside.status_code == 400
    assert "component of kit CAM-KIT" in str(inside.json())
    own = api.put(
        URL.format(code="CAM-KIT"),
        {"name": "Camera", "components": [{"sku": "CAM-KIT", "quantity": 1}]},
        format="json",
    )
    assert own.status_code == 400


def test_unknown_components_and_bad_quantities_are_field_errors(api, parts):
    answer = api.put(
        URL.format(code="CAM-KIT"),
        {
            "name": "Camera",
            "components": [
                {"sku": "NOPE", "quantity": 1},
                {"sku": "LENS-50", "quantity": 0},
            ],
        },
        format="json",
    )
    assert answer.status_code == 400
    assert not Sku.objects.filter(code="CAM-KIT").exists()


def test_a_sku_that_ever_held_stock_does_not_become_a_kit(api, parts):
    shelf = SkuFactory(code="OLD-SET")
    oxford = LocationFactory(code="oxford")
    stock(shelf, oxford, 1)
    from tests.factories import StockEvents

    StockEvents.post("sale", sku=shelf, location=oxford, quantity=1)
    answer = api.put(
        URL.format(code="OLD-SET"),
        {"name": "Old set", "components": [{"sku": "LENS-50", "quantity": 1}]},
        format="json",
    )
    assert answer.status_code == 409 and answer.json()["code"] == "kit_holds_stock"


def test_a_sku_with_stock_does_not_become_a_kit(api, parts):
    lens, body = parts
    shelf = SkuFactory(code="GIFT-SET")
    stock(shelf, LocationFactory(code="oxford"), 3)
    answer = api.put(
        URL.format(code="GIFT-SET"),
        {"name": "Gift set", "components": [{"sku": "LENS-50", "quantity": 1}]},
        format="json",
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "kit_holds_stock"
    assert "oxford" in answer.json()["detail"]
    shelf.refresh_from_db()
    assert not shelf.is_kit and not KitComponent.objects.exists()


def test_movements_naming_a_kit_are_refused(api, parts):
    lens, body = parts
    kit("CAM-KIT", (lens, 1), (body, 1))
    LocationFactory(code="oxford")
    answer = api.post(
        "/api/v1/movements/",
        {
            "reference": "rcpt-1",
            "type": "receipt",
            "sku": "CAM-KIT",
            "location": "oxford",
            "quantity": 2,
            "occurred_at": "2026-12-01T10:00:00Z",
            "channel": "erp",
        },
        format="json",
    )
    assert answer.status_code == 400
    assert "is a kit" in str(answer.json())


def test_a_redefined_kit_moves_its_revision_and_stays_a_kit(api, parts):
    lens, body = parts
    made = kit("CAM-KIT", (lens, 1), (body, 1))
    revision = made.kit_revision
    answer = api.put(
        URL.format(code="CAM-KIT"),
        {"name": "Camera", "components": [{"sku": "LENS-50", "quantity": 2}]},
        format="json",
    )
    assert answer.status_code == 200
    made.refresh_from_db()
    assert made.kit_revision == revision + 1
    # A kit stays a kit: its rows are with the channels.
    plain = api.put(
        URL.format(code="CAM-KIT"), {"name": "Camera", "components": []}, format="json"
    )
    assert plain.status_code == 400
    assert "stays one" in str(plain.json()["components"])
    made.refresh_from_db()
    assert made.is_kit and made.kit_revision == revision + 1


def test_an_integrator_lists_the_kits_and_the_kits_a_part_goes_into(api, parts):
    lens, body = parts
    kit("CAM-KIT", (lens, 1), (body, 1))
    kit("TWIN-LENS", (lens, 2))
    kits = api.get("/api/v1/skus/", {"is_kit": "true"}).json()["results"]
    assert [sku["code"] for sku in kits] == ["CAM-KIT", "TWIN-LENS"]
    with_body = api.get("/api/v1/skus/", {"component": "BODY-X"}).json()["results"]
    assert [sku["code"] for sku in with_body] == ["CAM-KIT"]
    plain = api.get("/api/v1/skus/", {"is_kit": "false"}).json()["results"]
    assert {sku["code"] for sku in plain} == {"LENS-50", "BODY-X"}
