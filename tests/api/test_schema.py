"""The OpenAPI schema and its docs page are public, complete and self-contained."""

import json
import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.settings import patched_settings
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

RESOURCES = ["products", "skus", "channels", "locations"]


def test_the_schema_lists_every_endpoint_without_a_token(anonymous):
    response = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for resource in RESOURCES:
        listing = schema["paths"][f"/api/v1/{resource}/"]
        detail = schema["paths"][f"/api/v1/{resource}/{{code}}/"]
        assert "get" in listing
        assert {"get", "put"} <= set(detail)
        assert {"200", "201", "400"} <= set(detail["put"]["responses"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_the_schema_names_the_required_and_optional_fields(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    sku_input = schema["components"]["schemas"]["SkuInputRequest"]
    assert sku_input["required"] == ["name"]
    assert {"product", "barcode", "attributes", "is_active"} <= set(
        sku_input["properties"]
    )


def test_the_api_docs_load_nothing_from_the_internet(anonymous, client):
    page = anonymous.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, "the docs page should reference its own scripts"
    # Static files, and the script that starts Swagger UI, served by the docs view
    # itself (no inline script: the Content-Security-Policy, docs/security.md).
    assert all(
        asset.startswith(("/static/", "/api/docs/?script=")) for asset in assets
    ), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_the_schema_describes_movements_one_or_in_batches_and_availability(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    post = schema["paths"]["/api/v1/movements/"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    one, many = body["oneOf"]
    assert one == {"$ref": "#/components/schemas/MovementInputRequest"}
    assert (many["type"], many["maxItems"]) == ("array", 1000)
    assert {"200", "201", "400", "403", "409"} <= set(post["responses"])
    movement_input = schema["components"]["schemas"]["MovementInputRequest"]
    assert set(movement_input["required"]) == {
        "reference", "type", "sku", "location", "quantity", "occurred_at",
    }  # fmt: skip
    sent_types = schema["components"]["schemas"]["SentMovementTypeEnum"]["enum"]
    assert "sale" in sent_types and "reserve" not in sent_types
    availability = schema["paths"]["/api/v1/availability/"]["get"]
    assert {p["name"] for p in availability["parameters"]} >= {
        "sku", "location", "channel", "page",
    }  # fmt: skip
    row = schema["components"]["schemas"]["Availability"]["properties"]
    assert {"available", "available_to_promise", "status", "as_of"} <= set(row)
    assert "{id}" in next(
        p for p in schema["paths"] if p.startswith("/api/v1/movements/{")
    )


def test_the_schema_describes_reservations_and_their_transitions(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    place = schema["paths"]["/api/v1/reservations/"]["post"]
    assert {"200", "201", "400", "403", "409"} <= set(place["responses"])
    refused = place["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert refused == {"$ref": "#/components/schemas/ReservationConflict"}
    shortage = schema["components"]["schemas"]["Shortage"]["properties"]
    assert set(shortage) == {
        "sku",
        "location",
        "requested",
        "available_to_promise",
        "earliest_available_at",  # a pre-order's, when supply could cover it
        "kits",  # the cart's kits that needed the SKU there
    }
    for action in ("release", "commit", "fulfil", "cancel"):
        path = schema["paths"][f"/api/v1/reservations/{{id}}/{action}/"]["post"]
        assert {"200", "404", "409"} <= set(path["responses"])
    statuses = schema["components"]["schemas"]["ReservationStatusEnum"]["enum"]
    assert statuses == [
        "active", "released", "expired", "committed", "fulfilled", "cancelled",
        "ordered",
    ]  # fmt: skip


def test_the_schema_is_valid_openapi_3_1_too():
    """Built as OpenAPI 3.1 (``OAS_VERSION``), the schema is valid, and no
    ``nullable`` is left (3.1's JSON Schema says ``type: [..., "null"]``; DRF's
    paginator writes ``nullable``, config.schema converts it): a page's `next` may
    be null either way."""
    with patched_settings({"OAS_VERSION": "3.1.0"}):
        generated = SchemaGenerator().get_schema(request=None, public=True)
        schema = json.loads(OpenApiJsonRenderer().render(generated, {}))
    assert schema["openapi"] == "3.1.0"
    validate(schema)
    assert '"nullable"' not in json.dumps(schema)
    page = schema["components"]["schemas"]["PaginatedSkuList"]["properties"]
    assert page["next"]["type"] == ["string", "null"]
