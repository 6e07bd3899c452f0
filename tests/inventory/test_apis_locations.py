"""An integrator registers the retailer's stores and warehouses."""

from decimal import Decimal

import pytest

from inventory.models import Location
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


def test_a_store_is_registered_with_its_coordinates_and_services(api):
    response = api.put(
        "/api/v1/locations/LON-OXF/",
        {
            "name": "London Oxford Street",
            "kind": "store",
            "address": "334 Oxford St",
            "city": "London",
            "postal_code": "W1C 1DX",
            "country": "gb",
            "latitude": 51.51541234,
            "longitude": -0.141,
            "time_zone": "Europe/London",
            "pickup_enabled": True,
            "ship_from_store_enabled": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["latitude"] == 51.515412
    assert body["country"] == "GB"
    store = Location.objects.get(code="LON-OXF")
    assert store.latitude == Decimal("51.515412")
    assert store.pickup_enabled and store.ship_from_store_enabled


def test_a_location_needs_only_a_name(api):
    response = api.put("/api/v1/locations/WH-1/", {"name": "Warehouse"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "store"
    assert body["time_zone"] == "UTC"
    assert body["latitude"] is None
    assert body["pickup_enabled"] is False


def test_a_store_stops_offering_pickup(api):
    LocationFactory(code="LDS-BRG", pickup_enabled=True)
    response = api.put(
        "/api/v1/locations/LDS-BRG/",
        {"name": "Leeds Briggate", "pickup_enabled": False},
        format="json",
    )
    assert response.status_code == 200
    assert Location.objects.get(code="LDS-BRG").pickup_enabled is False


def test_locations_are_filtered_by_kind_and_pickup(api):
    LocationFactory(code="S1", kind="store", pickup_enabled=True, city="Leeds")
    LocationFactory(code="S2", kind="store", pickup_enabled=False)
    LocationFactory(code="W1", kind="warehouse")

    def codes(**query):
        return [
            row["code"]
            for row in api.get("/api/v1/locations/", query).json()["results"]
        ]

    assert codes(kind="warehouse") == ["W1"]
    assert codes(pickup_enabled="true") == ["S1"]
    assert codes(search="leeds") == ["S1"]
    assert api.get("/api/v1/locations/", {"kind": "moon"}).status_code == 400
