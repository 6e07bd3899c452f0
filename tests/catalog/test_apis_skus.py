"""An integrator keeps the catalogue's SKUs in step with its own system."""

from catalog.models import Sku


def test_an_integrator_creates_a_sku_then_updates_it(api):
    created = api.put(
        "/api/v1/skus/TSHIRT-BLU-M/", {"name": "T-shirt blue M"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["code"] == "TSHIRT-BLU-M"
    assert created.json()["barcode"] == ""

    updated = api.put(
        "/api/v1/skus/TSHIRT-BLU-M/", {"name": "T-shirt, blue, M"}, format="json"
    )
    assert updated.status_code == 200
    assert Sku.objects.get(code="TSHIRT-BLU-M").name == "T-shirt, blue, M"
