"""Whatever an integration sends, a mistake gets 400 with field messages and writes
nothing; no input makes the API answer 500."""

import pytest

from catalog.models import Channel, Product, Sku
from inventory.models import Location

pytestmark = pytest.mark.django_db

RESOURCES = {
    "products": Product,
    "skus": Sku,
    "channels": Channel,
    "locations": Location,
}

BAD_BODIES = [
    pytest.param({}, "name", id="name-missing"),
    pytest.param({"name": ""}, "name", id="name-blank"),
    pytest.param({"name": None}, "name", id="name-null"),
    pytest.param({"name": 123}, "name", id="name-number"),
    pytest.param({"name": ["a"]}, "name", id="name-list"),
    pytest.param({"name": "x" * 201}, "name", id="name-too-long"),
    pytest.param({"name": "ok", "is_active": "yes"}, "is_active", id="bool-as-string"),
    pytest.param({"name": "ok", "is_active": 1}, "is_active", id="bool-as-number"),
    pytest.param({"name": "ok", "colour": "red"}, "colour", id="unknown-field"),
    pytest.param({"name": "ok", "code": "OTHER"}, "code", id="code-mismatch"),
]


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("body, field", BAD_BODIES)
def test_a_bad_body_is_refused_field_by_field(api, resource, body, field):
    response = api.put(f"/api/v1/{resource}/GOOD-1/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not RESOURCES[resource].objects.exists()


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize(
    "code",
    [
        "bad code",
        "-leading-dash",
        "x" * 65,
        "caf%C3%A9",
        "semi%3Bcolon",
        "%00",
        "ABC%0A",
    ],
)
def test_a_code_with_bad_characters_is_refused(api, resource, code):
    response = api.put(f"/api/v1/{resource}/{code}/", {"name": "ok"}, format="json")
    assert response.status_code == 400, response.content
    assert "code" in response.json()["errors"]
    assert not RESOURCES[resource].objects.exists()


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize(
    "raw",
    ['{"name": ', "not json", '["name"]', "null", '"just a string"', '{"name": NaN}'],
)
def test_malformed_json_is_refused(api, resource, raw):
    response = api.put(
        f"/api/v1/{resource}/GOOD-1/", raw, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert not RESOURCES[resource].objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "Web", "safety_buffer": 10**12}, "safety_buffer"),
        # Beyond 64 bits (orjson reads it as a float): still the field's own error.
        ({"name": "Web", "safety_buffer": 10**30}, "safety_buffer"),
        ({"name": "Web", "safety_buffer": -1}, "safety_buffer"),
        ({"name": "Web", "safety_buffer": 2.5}, "safety_buffer"),
        ({"name": "Web", "safety_buffer": "3"}, "safety_buffer"),
        ({"name": "Web", "reservation_ttl_seconds": 1}, "reservation_ttl_seconds"),
        ({"name": "Web", "reservation_ttl_seconds": 10**20}, "reservation_ttl_seconds"),
        ({"name": "Web", "kind": "fax"}, "kind"),
    ],
)
def test_absurd_channel_numbers_are_refused(api, body, field):
    response = api.put("/api/v1/channels/web/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "S", "latitude": 91, "longitude": 0}, "latitude"),
        ({"name": "S", "latitude": 0, "longitude": -180.5}, "longitude"),
        ({"name": "S", "latitude": "north", "longitude": 0}, "latitude"),
        ({"name": "S", "latitude": 1e308, "longitude": 0}, "latitude"),
        ({"name": "S", "latitude": 51.5}, "latitude"),
        ({"name": "S", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "S", "kind": "shed"}, "kind"),
        ({"name": "S", "country": "GBR"}, "country"),
        ({"name": "S", "country": "1!"}, "country"),
    ],
)
def test_a_location_with_impossible_details_is_refused(api, body, field):
    response = api.put("/api/v1/locations/LON-1/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Location.objects.exists()


@pytest.mark.parametrize(
    "attributes",
    [
        "red",
        ["red"],
        {"colour": {"nested": "no"}},
        {"colour": ["red"]},
        {"": "empty name"},
        {"k": "v" * 201},
        {f"a{n}": n for n in range(51)},
    ],
)
def test_sku_attributes_must_be_a_small_flat_object(api, attributes):
    response = api.put(
        "/api/v1/skus/TEE-S/", {"name": "Tee", "attributes": attributes}, format="json"
    )
    assert response.status_code == 400
    assert "attributes" in response.json()
    assert not Sku.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        {"is_active": "maybe"},
        {"updated_since": "yesterday"},
        {"page": "999"},
        {"page": "-1"},
        {"page_size": "lots"},
        {"ordering": "password"},
    ],
)
def test_odd_list_queries_never_break_the_list(api, query):
    response = api.get("/api/v1/skus/", query)
    assert response.status_code in (200, 400, 404), response.content


def test_a_body_that_is_not_json_is_refused_with_415(api):
    response = api.put("/api/v1/skus/TEE-S/", "name=Tee", content_type="text/plain")
    assert response.status_code == 415
    assert not Sku.objects.exists()


@pytest.mark.parametrize(
    "url, raw",
    [
        pytest.param("/api/v1/skus/A/", '{"name": "a\\u0000b"}', id="nul-in-name"),
        pytest.param("/api/v1/skus/A/", '{"name": "\\ud800"}', id="lone-surrogate"),
        pytest.param(
            "/api/v1/skus/A/",
            '{"name": "x", "attributes": {"k": "a\\u0000b"}}',
            id="nul-in-attribute",
        ),
        pytest.param(
            "/api/v1/skus/A/",
            '{"name": "x", "attributes": {"k\\u0000": "v"}}',
            id="nul-in-attribute-name",
        ),
        pytest.param(
            "/api/v1/skus/A/",
            '{"name": "x", "attributes": {"k": "\\udfff"}}',
            id="surrogate-in-attribute",
        ),
        pytest.param("/api/v1/skus/A/", "[" * 100_000, id="nested-too-deep"),
        # A body over the size limit is a 413: tests/api/test_input_limits.py.
        pytest.param(
            "/api/v1/locations/A/",
            '{"name": "x", "latitude": 1e999, "longitude": 1}',
            id="infinite-latitude",
        ),
        pytest.param(
            "/api/v1/channels/A/",
            '{"name": "x", "safety_buffer": 1e999}',
            id="infinite-buffer",
        ),
    ],
)
def test_characters_and_sizes_the_database_cannot_store_are_refused(api, url, raw):
    response = api.put(url, raw, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert not Sku.objects.exists()
    assert not Location.objects.exists()
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/skus/?search=%00",
        "/api/v1/skus/?product=%00",
        "/api/v1/skus/?barcode=%00",
        "/api/v1/locations/?country=%00",
        "/api/v1/skus/?updated_since=9999-99-99",
        "/api/v1/skus/?page=99999999999999999999",
        "/api/v1/skus/?page_size=99999999999999999999",
    ],
)
def test_odd_queries_get_an_answer_not_a_crash(api, url):
    assert api.get(url).status_code in (200, 400, 404)


@pytest.mark.parametrize("code", ["%00", "bad%20code", "x" * 65])
def test_reading_a_record_with_an_impossible_code_is_not_found(api, code):
    assert api.get(f"/api/v1/skus/{code}/").status_code == 404


def test_a_body_in_another_declared_charset_is_read_in_it(api):
    Product.objects.create(code="P-1", name="Coffee")
    response = api.put(
        "/api/v1/skus/CAFE-1/",
        '{"name": "Café au lait", "product": "P-1"}'.encode("latin-1"),
        content_type="application/json; charset=latin-1",
    )
    assert response.status_code == 201, response.content
    assert Sku.objects.get(code="CAFE-1").name == "Café au lait"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ('{"name": "x",}', "trailing comma"),
        ('{"name": Infinity}', "Infinity"),
        ('{"name": "x"} trailing', "text after the document"),
    ],
)
def test_a_parse_error_says_json_parse_error(api, raw, reason):
    response = api.put("/api/v1/skus/A/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith("JSON parse error - "), reason
    assert not Sku.objects.exists()
