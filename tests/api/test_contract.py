"""The contract a generated client relies on: the OpenAPI schema is valid, offers JSON
bodies only, declares every status each operation answers with a typed body; and
schemathesis finds nothing over every operation. (A client generated from it runs a
checkout story: test_generated_client.py.)

Everything runs in-process against the Django application (no server), on the test
database, within the test's transaction."""

import atexit
import copy
import shutil
import socket
import tempfile
import zlib
from types import SimpleNamespace

import hypothesis
import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase
from hypothesis.configuration import set_hypothesis_home_dir
from jsonschema import Draft4Validator
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from catalog.models import Sku
from inventory.models import Location
from reconciliation.services.exceptions import Raised, exception_raise
from sync import targets
from tests.conftest import client_for

# Hypothesis keeps its caches (the constants it finds in the source, its Unicode
# tables) in a directory of this run, set before its plugin fills them at the end of
# collection, and removed at exit: nothing is kept between runs.
HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="hypothesis-")
set_hypothesis_home_dir(HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, HYPOTHESIS_HOME, ignore_errors=True)

ERROR = {"$ref": "#/components/schemas/Error"}
FIELD_ERRORS = {"$ref": "#/components/schemas/FieldErrors"}
WRITES = {"post", "put", "patch", "delete"}


def operations(openapi: dict):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def body_schema(response: dict) -> dict:
    """A response's body schema: a refusal's is a problem's (RFC 9457)."""
    (media,) = response["content"]
    assert media in ("application/json", "application/problem+json"), media
    return response["content"][media]["schema"]


def component(openapi: dict, ref: dict) -> dict:
    return openapi["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


# The schema itself.


def test_the_schema_is_valid_openapi(openapi):
    """openapi-spec-validator passes it: no default breaks its own constraints (a
    `till_receipt` of "" with minLength 1 would be sent by every generated client)."""
    validate(openapi)
    returns = openapi["components"]["schemas"]["ReturnInputRequest"]["properties"]
    assert "default" not in returns["till_receipt"]
    ship = openapi["components"]["schemas"]["ShipRequest"]["properties"]
    assert "default" not in ship["carrier"]
    assert "default" not in ship["tracking_reference"]


def test_request_bodies_are_json_only(openapi):
    """A form or multipart body would turn a left-out boolean into false, and a
    generated client would send every write as multipart."""
    offered = {
        (method, path): set(operation["requestBody"]["content"])
        for path, method, operation in operations(openapi)
        if "requestBody" in operation
    }
    assert offered
    # The one exception: a file import is a file (docs/imports.md).
    files = {("post", "/api/v1/imports/"): {"multipart/form-data"}}
    assert all(
        media == files.get(key, {"application/json"}) for key, media in offered.items()
    ), offered


def test_the_token_scheme_says_the_header_is_token_and_the_key(openapi):
    scheme = openapi["components"]["securitySchemes"]["tokenAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == (
        "apiKey", "header", "Authorization",
    )  # fmt: skip
    assert "`Token <key>`" in scheme["description"]


def test_every_operation_declares_the_refusals_it_answers_with_typed_bodies(openapi):
    for path, method, operation in operations(openapi):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        assert body_schema(responses["401"]) == ERROR, where
        assert "WWW-Authenticate" in responses["401"]["headers"], where
        assert body_schema(responses["403"]) == ERROR, where
        assert body_schema(responses["429"]) == ERROR, where
        assert "Retry-After" in responses["429"]["headers"], where
        if "{" in path:
            assert body_schema(responses["404"]) == ERROR, where
        if "requestBody" in operation:
            bad_input = body_schema(responses["400"])
            assert bad_input == {"anyOf": [FIELD_ERRORS, ERROR]}, where
            assert body_schema(responses["415"]) == ERROR, where
            assert body_schema(responses["413"]) == ERROR, where
        if method in WRITES:
            assert "409" in responses, where
        for status, response in responses.items():
            if status >= "400":
                assert "content" in response, f"{where} {status} has no body"
                assert set(response["content"]) == {"application/problem+json"}
    error = openapi["components"]["schemas"]["Error"]
    assert set(error["required"]) == {
        "type", "title", "status", "detail", "instance", "code",
    }  # fmt: skip
    assert error["additionalProperties"] is True  # a refusal may carry more
    gone = openapi["paths"]["/api/v1/availability/changes/"]["get"]["responses"]["410"]
    cursor_expired = component(openapi, body_schema(gone))
    assert {"status", "detail", "code", "latest_cursor"} <= set(
        cursor_expired["required"]
    )
    place_order = openapi["paths"]["/api/v1/orders/"]["post"]["responses"]
    assert body_schema(place_order["404"]) == ERROR  # no such reservation


def test_posting_one_event_again_is_declared_as_a_movement_not_a_batch(openapi):
    responses = openapi["paths"]["/api/v1/movements/"]["post"]["responses"]
    again = component(openapi, body_schema(responses["200"]))
    assert again["oneOf"] == [
        {"$ref": "#/components/schemas/Movement"},
        {"$ref": "#/components/schemas/MovementBatchResponse"},
    ]
    refused = component(openapi, body_schema(responses["409"]))
    assert refused["properties"]["movement"]["allOf"] == [
        {"$ref": "#/components/schemas/Movement"}
    ]
    assert {"status", "detail", "code"} <= set(refused["required"])
    transition = openapi["paths"]["/api/v1/reservations/{id}/release/"]["post"]
    held_back = component(openapi, body_schema(transition["responses"]["409"]))
    # The record's status is `current_status`: `status` is the problem's, the HTTP's.
    assert held_back["properties"]["status"]["type"] == "integer"
    assert "current_status" in held_back["properties"]


# The bodies the refusals really have.


@pytest.mark.django_db
def test_refusals_answer_the_error_body_the_schema_declares(openapi, api, anonymous):
    def error_body(response) -> dict:
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        Draft4Validator(openapi["components"]["schemas"]["Error"]).validate(body)
        return body

    nobody = anonymous.get("/api/v1/skus/")
    assert nobody.status_code == 401
    assert nobody["WWW-Authenticate"] == "Token"
    assert error_body(nobody)["code"] == "not_authenticated"
    unknown = client_for("not-a-key").get("/api/v1/skus/")
    assert (unknown.status_code, error_body(unknown)["code"]) == (
        401, "authentication_failed",
    )  # fmt: skip
    missing = api.get("/api/v1/skus/NO-SUCH-SKU/")
    assert (missing.status_code, error_body(missing)["code"]) == (404, "not_found")
    as_form = api.post("/api/v1/movements/", "reference=R1", content_type="text/plain")
    assert (as_form.status_code, error_body(as_form)["code"]) == (
        415, "unsupported_media_type",
    )  # fmt: skip
    broken = api.post("/api/v1/movements/", "{", content_type="application/json")
    assert (broken.status_code, error_body(broken)["code"]) == (400, "parse_error")
    no_page = api.get("/api/v1/skus/?page=9")
    assert (no_page.status_code, error_body(no_page)["code"]) == (404, "not_found")


# Schemathesis over every operation.

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Examples per operation in the fuzzing phase, beyond the coverage phase's boundary
# cases: about 40 seconds for the whole API on two slow cores.
EXAMPLES = 25


PUBLIC_ADDRESS = "93.184.216.34"


def resolved_publicly(host, port, *args, **kwargs):
    """Every webhook host resolves to a public address: no DNS look-up in a test."""
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_ADDRESS, port))]


def pickup_at_oxford(reference: str, customer: dict, quantity: int) -> dict:
    """A web order collected at Oxford Street, as the known shop's are placed."""
    return {
        "reference": reference,
        "channel": "web",
        "fulfilment_method": "pickup",
        "pickup_location": "LON-OXF",
        "customer": customer,
        "lines": [{"sku": "TEE-BLK-M", "quantity": quantity}],
    }


@pytest.fixture
def known(api, monkeypatch):
    """A shop with stock, a hold, orders, a return-to-stock task, a snapshot and a
    webhook subscription, made through the API; schemathesis sends their codes and
    ids in about half its cases, so that they reach the services and the database,
    not only the 404 of an unknown code."""
    monkeypatch.setattr(
        targets,
        "socket",
        SimpleNamespace(getaddrinfo=resolved_publicly, SOCK_STREAM=socket.SOCK_STREAM),
    )
    for path, body in [
        ("/api/v1/channels/web/", {"name": "Web shop", "kind": "web"}),
        (
            "/api/v1/locations/LON-OXF/",
            {
                "name": "Oxford Street",
                "kind": "store",
                "pickup_enabled": True,
                "opens_at": "00:00",
                "pickup_cutoff": "23:59",
            },
        ),
        ("/api/v1/locations/DC-1/", {"name": "North", "kind": "distribution_centre"}),
        ("/api/v1/products/TEE/", {"name": "Tee"}),
        ("/api/v1/skus/TEE-BLK-M/", {"name": "Tee black M", "product": "TEE"}),
    ]:
        assert api.put(path, body).status_code == 201, path
    receipt = api.post(
        "/api/v1/movements/",
        {
            "reference": "GRN-1",
            "type": "receipt",
            "sku": "TEE-BLK-M",
            "location": "LON-OXF",
            "quantity": 50,
            "occurred_at": "2026-01-05T09:00:00Z",
            "channel": "web",
        },
    )
    assert receipt.status_code == 201, receipt.json()
    hold = api.post(
        "/api/v1/reservations/",
        {
            "reference": "CART-1",
            "channel": "web",
            "lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 2}],
        },
    )
    assert hold.status_code == 201, hold.json()
    order = api.post(
        "/api/v1/orders/",
        pickup_at_oxford("WEB-1", {"name": "Ada Byron"}, 1),
    )
    assert order.status_code == 201, order.json()
    picked = api.post(
        "/api/v1/orders/",
        pickup_at_oxford("WEB-2", {"name": "Grace Hopper"}, 2),
    ).json()
    assert api.post(f"/api/v1/orders/{picked['id']}/pick/", {}).status_code == 200
    cancelled = api.post(
        f"/api/v1/orders/{picked['id']}/cancel/", {"reason": "Changed her mind."}
    )
    assert cancelled.status_code == 200, cancelled.json()
    (task,) = api.get("/api/v1/return-to-stock-tasks/").json()["results"]
    collected = api.post(
        "/api/v1/orders/",
        pickup_at_oxford("WEB-3", {"name": "Ada Byron", "email": "ada@example.com"}, 2),
    ).json()
    for step in ("pick", "ready", "collect"):
        done = api.post(f"/api/v1/orders/{collected['id']}/{step}/", {})
        assert done.status_code == 200, (step, done.json())
    announced = api.post(
        "/api/v1/returns/",
        {
            "reference": "RMA-1",
            "channel": "web",
            "order": "WEB-3",
            "location": "LON-OXF",
            "customer": {"name": "Ada Byron"},
            "lines": [{"sku": "TEE-BLK-M", "quantity": 1, "reason": "wrong_size"}],
        },
    )
    assert announced.status_code == 201, announced.json()
    case = exception_raise(
        raised=Raised(
            kind="item_not_found",
            key="contract-1",
            title="Tee black M not on the shelf",
            sku=Sku.objects.get(code="TEE-BLK-M"),
            location=Location.objects.get(code="LON-OXF"),
            facts={"looked": 2},
        )
    )
    snapshot = api.post(
        "/api/v1/snapshots/",
        {
            "snapshot_id": "EOD-1",
            "channel": "web",
            "taken_at": "2026-01-05T22:00:00Z",
            "page": 1,
            "page_count": 1,
            "rows": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "on_hand": 49}],
        },
    )
    assert snapshot.status_code == 201, snapshot.json()
    webhook = api.post(
        "/api/v1/webhooks/",
        {"channel": "web", "url": "https://shop.example/hooks/stock"},
    )
    assert webhook.status_code == 201, webhook.json()
    return {
        "codes": {
            "products": "TEE",
            "skus": "TEE-BLK-M",
            "channels": "web",
            "locations": "LON-OXF",
        },
        "ids": {
            "movements": receipt.json()["id"],
            "reservations": hold.json()["id"],
            "orders": order.json()["id"],
            "return-to-stock-tasks": task["id"],
            "snapshots": snapshot.json()["id"],
            "webhooks": webhook.json()["id"],
            "returns": announced.json()["id"],
            "exceptions": case.pk,
        },
        "fields": {
            "sku": "TEE-BLK-M",
            "product": "TEE",
            "channel": "web",
            "location": "LON-OXF",
            "pickup_location": "LON-OXF",
            "other_location": "DC-1",
            "reservation": hold.json()["id"],
            "line": order.json()["lines"][0]["id"],
        },
    }


@pytest.fixture
def contract_api(openapi, in_process_app, api_token, known):
    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Token {api_token[1]}"},
            "generation": {"mode": "positive", "max-examples": EXAMPLES},
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )
    loaded = schemathesis.openapi.from_dict(copy.deepcopy(openapi), config=config)
    loaded.app = in_process_app
    return loaded


contract = schemathesis.pytest.from_fixture("contract_api")


def with_known_records(case, known: dict) -> None:
    """The case's codes and ids replaced by the shop's own."""
    resource = case.path.removeprefix("/api/v1/").split("/", 1)[0]
    for name in case.path_parameters or {}:
        if name == "code" and resource in known["codes"]:
            case.path_parameters[name] = known["codes"][resource]
        elif name == "id" and resource in known["ids"]:
            case.path_parameters[name] = known["ids"][resource]
    for name, value in (case.query or {}).items():
        if name in known["fields"]:
            code = known["fields"][name]
            case.query[name] = [code] * len(value) if isinstance(value, list) else code
    case.body = _known_fields(case.body, known["fields"])


def _known_fields(body, fields: dict):
    if isinstance(body, list):
        return [_known_fields(item, fields) for item in body]
    if isinstance(body, dict):
        return {
            name: fields[name]
            if name in fields and type(value) is type(fields[name])
            else _known_fields(value, fields)
            for name, value in body.items()
        }
    return body


@contract.parametrize()
@hypothesis.settings(
    deadline=None,
    database=None,  # nothing kept between runs
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_schemathesis_finds_nothing_in_any_operation(case, known):
    if zlib.crc32(repr(case).encode()) % 2:  # half the cases, the same in every run
        with_known_records(case, known)
    # Each case starts from the same shop: what one wrote is rolled back.
    savepoint = transaction.savepoint()
    try:
        case.call_and_validate(checks=CHECKS)
    finally:
        transaction.savepoint_rollback(savepoint)


# A generated client.
