"""Every error under /api/ is a problem (RFC 9457, config/problems.py): answered as
``application/problem+json`` with ``type``, ``title``, ``status``, ``detail`` and
``instance``, whichever layer answered it (DRF's exception handler, Django's error
views, a middleware), and with ``code``, ``detail`` and the extra members clients
read before (``shortages``, ``allowed``, the fields of a 400) where they were."""

import uuid
from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import OperationalError
from jsonschema import Draft4Validator, Draft202012Validator

from catalog.apis import SkuViewSet
from catalog.models import Sku
from config.problems import PROBLEM_CONTENT_TYPE, field_problem_body, problem_body
from config.schema import as_problem
from inventory.models import Reservation
from tests.conftest import client_for
from tests.factories import stock

pytestmark = pytest.mark.django_db

RFC_MEMBERS = {"type", "title", "status", "detail", "instance", "code"}


def problem(response, status: int, path: str) -> dict:
    """The body of ``response``, checked to be a problem about ``path``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert RFC_MEMBERS <= set(body), body
    assert (body["type"], body["status"], body["instance"]) == (
        "about:blank", status, path,
    )  # fmt: skip
    assert body["request_id"] == response["X-Request-ID"]
    return body


def hold(lines, reference="CART-1"):
    return {"reference": reference, "channel": "web", "lines": lines}


def test_a_field_error_keeps_its_fields_and_lists_them_all_under_errors(api):
    """A SKU put with a blank name and "yes" for a boolean: each field reads as
    before, `errors` holds them all, and `detail` says the first in one line."""
    path = "/api/v1/skus/TEE-S/"
    body = problem(api.put(path, {"name": "", "is_active": "yes"}), 400, path)
    assert (body["title"], body["code"]) == ("Bad Request", "invalid")
    assert body["name"] == ["This field may not be blank."]  # as before
    assert body["is_active"] == ["Must be true or false."]
    assert body["errors"] == {"name": body["name"], "is_active": body["is_active"]}
    assert body["detail"] == (
        "name: This field may not be blank. (and 1 more: see errors)"
    )
    assert not Sku.objects.exists()


def test_a_field_named_code_stays_under_errors_only(api):
    path = "/api/v1/skus/TEE-S/"
    body = problem(api.put(path, {"name": "Tee", "code": "OTHER"}), 400, path)
    assert body["code"] == "invalid"
    assert body["errors"] == {"code": ["Does not match the code in the URL."]}
    assert body["detail"] == "code: Does not match the code in the URL."


def test_a_line_in_error_is_named_by_where_it_is(api, shop):
    path = "/api/v1/reservations/"
    lines = [
        {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 1},
        {"sku": "NO-SUCH", "location": "LON-OXF", "quantity": 1},
    ]
    body = problem(api.post(path, hold(lines)), 400, path)
    assert body["lines"] == body["errors"]["lines"]
    assert body["detail"] == "lines[1].sku: Unknown SKU 'NO-SUCH'."


def test_a_list_of_errors_is_held_whole_under_errors():
    """A batch refused item by item (a list, not a map): `errors` is the list,
    and `non_field_errors` holds it as the body used to."""
    items = [{}, {"quantity": ["Must be a whole number."]}]
    body = field_problem_body(items, instance="/api/v1/movements/")
    assert body["errors"] == body["non_field_errors"] == items
    assert body["detail"] == "[1].quantity: Must be a whole number."
    whole = field_problem_body(["Empty batch."], instance="/api/v1/movements/")
    assert whole["errors"] == {"non_field_errors": ["Empty batch."]}
    assert whole["detail"] == "Empty batch."


def test_an_error_s_own_member_named_as_the_problem_s_is_current_and_so_documented():
    """A pick list refused with its own `status`, `type`, `title`, `instance`,
    `errors` and `request_id`: the answer's members are the problem's, the list's
    are `current_<name>`, nothing is lost; the schema renames a refusal body's
    members as the server does, and shows the stamped `request_id` as itself."""
    own = {
        "status": "picked",
        "type": "pick_list",
        "title": "Pick list PL-7",
        "instance": "/store/pick/7/",
        "errors": ["line 3"],
        "request_id": "stale",
        "lines": 3,
    }
    body = problem_body(
        status=409,
        code="pick_list_picked",
        detail="The pick list is picked already.",
        instance="/api/v1/pick-lists/7/release/",
        extra=own,
    )
    assert body == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "The pick list is picked already.",
        "instance": "/api/v1/pick-lists/7/release/",
        "code": "pick_list_picked",
        "current_status": "picked",
        "current_type": "pick_list",
        "current_title": "Pick list PL-7",
        "current_instance": "/store/pick/7/",
        "current_errors": ["line 3"],
        "current_request_id": "stale",
        "lines": 3,
    }
    schema = {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string"},
            **{name: {} for name in own},
        },
        "required": ["detail", "code", "status"],
    }
    as_problem(schema)
    assert set(schema["properties"]) == set(body) | {"request_id"}
    assert "current_status" in schema["required"]


def test_a_cart_too_big_for_the_shelf_is_a_conflict_with_its_shortages(api, shop):
    stock(shop["tee"], shop["oxford"], 1)
    path = "/api/v1/reservations/"
    lines = [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 3}]
    body = problem(api.post(path, hold(lines)), 409, path)
    assert (body["title"], body["code"]) == ("Conflict", "insufficient_stock")
    assert body["detail"]  # as before, for people
    (short,) = body["shortages"]
    assert (short["sku"], short["requested"], short["available_to_promise"]) == (
        "TEE-BLK-M", 3, 1,
    )  # fmt: skip
    assert not Reservation.objects.exists()


def test_a_refused_status_change_says_where_the_record_is_as_current_status(api, shop):
    stock(shop["tee"], shop["oxford"], 2)
    lines = [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 1}]
    held = api.post("/api/v1/reservations/", hold(lines)).json()
    path = f"/api/v1/reservations/{held['id']}/release/"
    assert api.post(path).status_code == 200
    body = problem(api.post(path), 409, path)
    assert body["code"] == "reservation_transition_refused"
    assert (body["current_status"], body["allowed"]) == ("released", [])


def test_a_movement_sent_again_with_other_figures_is_a_problem_with_its_entry(
    api, shop, openapi
):
    """A refused movement is a problem with the entry as stored (`movement`), an
    extension member of the domain error the view raises."""
    path = "/api/v1/movements/"
    receipt = {
        "reference": "GRN-1",
        "type": "receipt",
        "sku": "TEE-BLK-M",
        "location": "LON-OXF",
        "quantity": 5,
        "occurred_at": "2026-01-05T09:00:00Z",
        "channel": "web",
    }
    first = api.post(path, receipt)
    assert first.status_code == 201, first.json()
    body = problem(api.post(path, {**receipt, "quantity": 6}), 409, path)
    assert body["code"] == "reference_clash"
    assert body["movement"]["quantity"] == 5
    # As the schema's MovementRefused (the 409 declared) says.
    refused = {"$ref": "#/components/schemas/MovementRefused", **openapi}
    Draft202012Validator(refused).validate(body)


def test_a_path_no_view_has_is_a_404_problem(api):
    path = "/api/v1/no-such-thing/"
    body = problem(api.get(path), 404, path)
    assert (body["title"], body["code"], body["detail"]) == (
        "Not Found", "not_found", "Not found.",
    )  # fmt: skip


def test_a_bad_token_is_a_401_problem_saying_how_to_authenticate():
    path = "/api/v1/skus/"
    response = client_for("not-a-key").get(path)
    body = problem(response, 401, path)
    assert response["WWW-Authenticate"] == "Token"
    assert body["code"] == "authentication_failed"


def test_unknown_tokens_past_the_limit_are_a_429_problem_with_retry_after(
    anonymous, settings
):
    settings.THROTTLE_TOKEN_FAILURES = "1/minute"
    path = "/api/v1/skus/"
    assert client_for("guess-1").get(path).status_code == 401
    response = client_for("guess-2").get(path)
    body = problem(response, 429, path)
    assert body["code"] == "throttled"
    assert body["retry_after"] == int(response["Retry-After"])
    assert body["detail"].startswith("Too many failed tokens")


def test_a_method_a_resource_does_not_take_is_a_405_problem(api):
    path = "/api/v1/skus/TEE-S/"
    body = problem(api.delete(path), 405, path)
    assert body["code"] == "method_not_allowed"


def test_a_form_body_is_a_415_problem(api):
    path = "/api/v1/movements/"
    response = api.post(
        path, "reference=R1", content_type="application/x-www-form-urlencoded"
    )
    assert problem(response, 415, path)["code"] == "unsupported_media_type"


def test_a_body_over_the_limit_is_a_413_problem(api):
    path = "/api/v1/skus/TEE-S/"
    too_big = '{"name": "' + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '"}'
    response = api.put(path, too_big, content_type="application/json")
    body = problem(response, 413, path)
    assert (body["title"], body["code"]) == (
        HTTPStatus(413).phrase,
        "request_too_large",
    )
    assert not Sku.objects.exists()


def test_a_nul_character_is_a_400_problem(api):
    path = "/api/v1/skus/"
    body = problem(api.get(path, {"q": "a\x00b"}), 400, path)
    assert body["code"] == "invalid"
    assert "NUL" in body["detail"]


def test_broken_json_is_a_400_problem_with_drf_s_code(api):
    path = "/api/v1/movements/"
    body = problem(api.post(path, "{", content_type="application/json"), 400, path)
    assert body["code"] == "parse_error"


def test_a_database_out_of_reach_is_a_503_problem_to_retry(api, monkeypatch):
    def unreachable(self, request, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(SkuViewSet, "list", unreachable)
    path = "/api/v1/skus/"
    response = api.get(path)
    body = problem(response, 503, path)
    assert body["code"] == "service_unavailable"
    assert body["retry_after"] == int(response["Retry-After"])
    assert "same reference" in body["detail"]


def test_a_bug_is_a_500_problem(api, monkeypatch):
    def broken(self, request, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(SkuViewSet, "list", broken)
    api.raise_request_exception = False
    path = "/api/v1/skus/"
    assert problem(api.get(path), 500, path)["code"] == "server_error"


def test_a_client_accepting_json_only_gets_its_error_as_a_problem(api):
    """A problem is JSON: asking for `application/json` is no reason for a 406."""
    path = "/api/v1/skus/NOPE/"
    body = problem(api.get(path, HTTP_ACCEPT="application/json"), 404, path)
    assert body["code"] == "not_found"


def test_a_client_accepting_problems_only_is_told_406_as_a_problem(api):
    """What a success would be is not a problem: a client that accepts nothing but
    `application/problem+json` is answered 406 (as a problem), as DRF does for
    any media type it cannot give; `application/json, application/problem+json`
    is what to send."""
    path = "/api/v1/skus/"
    body = problem(api.get(path, HTTP_ACCEPT=PROBLEM_CONTENT_TYPE), 406, path)
    assert body["code"] == "not_acceptable"
    both = api.get(path, HTTP_ACCEPT=f"application/json, {PROBLEM_CONTENT_TYPE}")
    assert both.status_code == 200


def test_a_browser_still_sees_the_api_s_page_for_an_error(api):
    answer = api.get("/api/v1/skus/NOPE/", HTTP_ACCEPT="text/html")
    assert answer.status_code == 404
    assert answer["Content-Type"].startswith("text/html")


def test_every_problem_is_what_the_schema_s_error_says(api, openapi, shop):
    """The schema's `Error` (every refusal's members) holds for each source."""
    error = Draft4Validator(openapi["components"]["schemas"]["Error"])
    answers = [
        api.put("/api/v1/skus/TEE-S/", {"name": ""}),
        api.get("/api/v1/no-such-thing/"),
        api.get("/api/v1/skus/", {"q": "\x00"}),
        client_for("not-a-key").get("/api/v1/skus/"),
        api.get(f"/api/v1/reservations/{uuid.uuid4().int % 10**6}/"),
    ]
    for answer in answers:
        assert answer.status_code >= 400
        error.validate(answer.json())
