"""A SKU's cost and price: set by an integration or a manager through the API and the
admin, read back, refused with a field error when they are not an amount."""

from decimal import Decimal

import pytest

from catalog.models import Sku
from tests.factories import SkuFactory

pytestmark = pytest.mark.django_db


def test_cost_and_price_are_set_read_and_kept(api):
    created = api.put(
        "/api/v1/skus/TEE-RED-M/",
        {"name": "Tee red M", "cost": "4.20", "price": 12.5},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert (created.json()["cost"], created.json()["price"]) == ("4.20", "12.50")

    # A later update that does not mention them keeps them.
    api.put("/api/v1/skus/TEE-RED-M/", {"name": "Tee, red, M"}, format="json")
    sku = Sku.objects.get(code="TEE-RED-M")
    assert (sku.cost, sku.price) == (Decimal("4.20"), Decimal("12.50"))
    read = api.get("/api/v1/skus/TEE-RED-M/").json()
    assert (read["cost"], read["price"]) == ("4.20", "12.50")


def test_a_sku_without_a_cost_says_null_and_can_drop_it_again(api):
    SkuFactory(code="MUG-1", cost=Decimal("2.00"))
    assert api.get("/api/v1/skus/MUG-1/").json()["price"] is None
    cleared = api.put(
        "/api/v1/skus/MUG-1/", {"name": "Mug", "cost": None}, format="json"
    )
    assert cleared.status_code == 200
    assert cleared.json()["cost"] is None
    assert Sku.objects.get(code="MUG-1").cost is None


def test_a_zero_cost_is_a_cost(api):
    response = api.put(
        "/api/v1/skus/FREEBIE/", {"name": "Bag", "cost": 0, "price": "0"}, format="json"
    )
    assert response.status_code == 201
    assert Sku.objects.get(code="FREEBIE").cost == Decimal("0")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "Must be 0 or more."),
        ("-0.01", "Must be 0 or more."),
        ("twelve", "Must be an amount such as 12.50."),
        (True, "Must be an amount such as 12.50."),
        ({"amount": 1}, "Must be an amount such as 12.50."),
        ("1.005", "decimal places"),
        (10**12, "digits"),
        ("NaN", "Must be an amount such as 12.50."),
        ("Infinity", "Must be an amount such as 12.50."),
    ],
)
@pytest.mark.parametrize("field", ["cost", "price"])
def test_bad_amounts_are_refused_with_a_field_error(api, field, value, message):
    response = api.put(
        "/api/v1/skus/BAD-1/", {"name": "Bad", field: value}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()
    problems = errors.get(field) or errors.get("errors", {}).get(field)
    assert problems, errors
    assert message in " ".join(map(str, problems))
    assert not Sku.objects.filter(code="BAD-1").exists()


def test_the_list_finds_the_skus_without_a_cost(api):
    SkuFactory(code="A-1", cost=Decimal("1.00"))
    SkuFactory(code="B-1", cost=None)
    listed = api.get("/api/v1/skus/?cost_missing=true").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["code"] for row in rows] == ["B-1"]


def test_the_schema_describes_cost_and_price(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    sku_input = schema["components"]["schemas"]["SkuInputRequest"]["properties"]
    sku_output = schema["components"]["schemas"]["Sku"]["properties"]
    for field in ("cost", "price"):
        assert "null" in sku_input[field]["type"]  # OpenAPI 3.1
        assert field in sku_output


def test_the_admin_edits_cost_and_price(admin_client):
    sku = SkuFactory(code="ADM-1")
    page = admin_client.get(f"/admin/catalog/sku/{sku.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="cost"' in html and 'name="price"' in html
