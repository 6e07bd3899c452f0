"""The API's contract as OpenAPI: what drf-spectacular infers from the views, and what
it cannot see, namely how every operation refuses (docs/security.md, "The API
contract"). Imports nothing from the apps.

- ``AutoSchema`` (REST_FRAMEWORK's ``DEFAULT_SCHEMA_CLASS``) declares on every
  operation the refusals it can answer, each with a typed body, where the view has not
  declared them itself (or declared a description without a body):

  - 401 and 403 (with 429: a token refused too often from one address) on every
    operation that needs a caller;
  - 404 on a path with an id or a code, and on a paginated list (no such page);
  - 400 on an operation with a body or query parameters (``FieldErrors``, or
    ``Error`` for a body that is not JSON at all);
  - 409 on every write: a business rule, or a concurrent change;
  - 413 and 415 on an operation with a body: too large, not JSON;
  - 429 on a throttled view, with ``Retry-After``.

  Every refusal is ``application/problem+json`` (RFC 9457, ``config.problems``):
  ``Error`` (the RFC's members and ``code``, any further member allowed), or
  ``FieldErrors`` for a 400 by field. A view declares a more specific body (a 409
  with ``shortages``, the change feed's 410 with ``latest_cursor``) with
  ``extend_schema`` as usual; those are kept, given the problem's members they lack
  (``as_problem``; a member of their own named as one of the problem's is renamed as
  the server renames it, ``config.problems.extension_name``: ``status`` is
  ``current_status``).
- ``defaults_a_client_may_send`` (a postprocessing hook): a default is what a
  generated client sends when its caller leaves the field out, so a default that the
  field's own constraints refuse (``""`` for a field with ``minLength: 1``) is dropped:
  left out, the server applies it.
- ``times_of_day_as_written`` (a postprocessing hook): a time of day is ``HH:MM[:SS]``
  without an offset, which JSON Schema's ``time`` format refuses.

Both hooks and ``AutoSchema`` hold for OpenAPI 3.0 and 3.1 alike (``OAS_VERSION``):
under 3.1 a nullable is ``type: [..., "null"]``, and what DRF's paginator still
writes as ``nullable`` is converted (``AutoSchema._null_as_a_type``).
"""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent, is_jsonschema_compliant
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from rest_framework import permissions, serializers

from .problems import (
    EVERY_PROBLEM_MEMBERS,
    PROBLEM_CONTENT_TYPE,
    REQUEST_ID,
    extension_name,
)

API_PREFIX = "/api/"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
REQUEST_ID_HELP = (
    "The request's id (also in the `X-Request-ID` header): quote it, and the "
    "server's log lines of this request are found."
)
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


class ErrorSerializer(serializers.Serializer):
    """Every refusal, as a problem (RFC 9457, ``config.problems``): the RFC's
    members, a message for people and a code for programs; many carry more
    (``shortages``, ``scope``, ``allowed``, …) as extension members."""

    type = serializers.CharField(
        help_text="`about:blank`: the problem is what `status` and `code` say."
    )
    title = serializers.CharField(
        help_text="The HTTP status's phrase, e.g. `Conflict`."
    )
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong, for people.")
    instance = serializers.CharField(help_text="The path the request was sent to.")
    code = serializers.CharField(
        help_text="What went wrong, for programs: stable, e.g. `not_found`, "
        "`not_authenticated`, `scope_missing`, `channel_not_permitted`, "
        "`parse_error`, `unsupported_media_type`, `reference_clash`, "
        "`concurrent_conflict`, `invalid` (a 400 for fields, with `errors`)."
    )
    request_id = serializers.CharField(required=False, help_text=REQUEST_ID_HELP)

    class Meta:
        ref_name = "Error"


# The members every problem has (config.problems names them), and the request id
# stamped into each, as ErrorSerializer maps them: what a view's own refusal body (a
# serializer of its app) is given where it lacks them.
PROBLEM_PROPERTIES: dict[str, Any] = {
    **{name: {"type": "string"} for name in EVERY_PROBLEM_MEMBERS},
    "status": {"type": "integer", "description": "The HTTP status code."},
    REQUEST_ID: {"type": "string", "description": REQUEST_ID_HELP},
}
PROBLEM_REQUIRED = list(EVERY_PROBLEM_MEMBERS)

FIELD_ERRORS = ResolvedComponent(
    name="FieldErrors",
    type=ResolvedComponent.SCHEMA,
    object="config.schema.FIELD_ERRORS",
    schema={
        "type": "object",
        "description": (
            "A 400 for the input, as a problem with `code` `invalid`: `errors` maps "
            "each field in error to its messages, e.g. "
            '`{"barcode": ["The barcode\'s check digit is wrong."]}`. A nested '
            "object names its own fields; a list has one entry per item, in order "
            '(`{"lines": [{}, {"sku": ["Unknown SKU."]}]}`); `non_field_errors` '
            "is about the body as a whole. Each field is also a member of its own "
            "name, unless the name is a problem's (`type`, `code`, …). `detail` is "
            "the first message in one line. Nothing was written."
        ),
        "properties": {
            **PROBLEM_PROPERTIES,
            "errors": {
                "description": "Every field's messages (for a list of items, one "
                "entry per item).",
                "oneOf": [
                    {"type": "object", "additionalProperties": {}},
                    {"type": "array", "items": {}},
                ],
            },
            "non_field_errors": {"type": "array", "items": {}},
        },
        "required": [*PROBLEM_REQUIRED, "errors"],
        "additionalProperties": {
            "oneOf": [{"type": "array", "items": {}}, {"type": "object"}],
        },
    },
)

REFUSALS = {
    "400": "The input is wrong: `errors` names each field's messages "
    "(`FieldErrors`, `code` `invalid`); a body that is not JSON (`parse_error`), or "
    "a NUL character (`invalid`), is an `Error`. Nothing was written.",
    "401": "No credentials, or a token that is unknown, malformed or revoked. Send "
    "`Authorization: Token <key>`.",
    "403": "The caller may not do this: the token lacks the scope (`scope_missing`, "
    "with `scope`), it acts for another channel (`channel_not_permitted`), or a "
    "signed-in user's role does not allow it.",
    "404": "No such record (or one the caller may not see).",
    "409": "A business rule refused the request (`code` says which), or a concurrent "
    "change conflicts with it (`concurrent_conflict`: retry). Nothing was written.",
    "413": "The body is larger than the server accepts.",
    "415": "The body is not JSON: send `Content-Type: application/json`.",
    "429": "Too many unknown or revoked tokens from this address, or too many "
    "requests: wait `Retry-After` seconds.",
}
NO_SUCH_PAGE = "No such page (`page` past the last)."
HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "`Token`: the scheme to authenticate with.",
        }
    },
    "429": {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "Seconds to wait before trying again.",
        }
    },
}


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None or not path.startswith(API_PREFIX):
            return operation
        responses = operation["responses"]
        refusals = self._refusals(operation)
        # A refusal the view declared with a description only gets its body too.
        for status_code in responses:
            if status_code >= "400":
                refusals.setdefault(status_code, "")
        for status_code, description in refusals.items():
            declared = responses.get(status_code, {})
            if "content" not in declared:
                responses[status_code] = self._refusal(
                    status_code, declared.get("description") or description
                )
        for status_code, response in responses.items():
            if status_code >= "400":
                self._as_problem_response(response)
        if is_jsonschema_compliant():  # OpenAPI 3.1: JSON Schema has no `nullable`
            for response in responses.values():
                for body in response.get("content", {}).values():
                    self._null_as_a_type(body.get("schema", {}))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _null_as_a_type(self, schema: dict[str, Any]) -> None:
        """``nullable: true`` as ``type: [..., "null"]``: drf-spectacular converts
        its own, but a paginated list's ``next`` and ``previous`` come from DRF's
        paginator, written for OpenAPI 3.0; under 3.1 they would refuse null."""
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            try:
                schema = self.registry[(name, ResolvedComponent.SCHEMA)].schema
            except KeyError:
                return
        if schema.pop("nullable", False) and isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
        for each in _inner_schemas(schema):
            self._null_as_a_type(each)

    def _as_problem_response(self, response: dict[str, Any]) -> None:
        """A refusal's body is ``application/problem+json`` (what the server sends,
        ``config.problems``), its schema a problem's: a view's own refusal body
        gets the members it lacks."""
        content = response.get("content")
        if not content:
            return
        media = next((m for m in content if "json" in m), None)
        if media is None:
            return
        body = content[media]
        response["content"] = {PROBLEM_CONTENT_TYPE: body}
        self._as_problem_schema(body.get("schema", {}))

    def _as_problem_schema(self, schema: dict[str, Any]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            try:
                schema = self.registry[(name, ResolvedComponent.SCHEMA)].schema
            except KeyError:
                return
        for key in ("oneOf", "anyOf", "allOf"):
            for each in schema.get(key, []):
                self._as_problem_schema(each)
        if schema.get("type") == "object" and "properties" in schema:
            as_problem(schema)

    def _refusals(self, operation: dict[str, Any]) -> dict[str, str]:
        """The refusals this operation can answer, with what each means here."""
        statuses: dict[str, str] = {}
        has_body = "requestBody" in operation
        has_query = any(p["in"] == "query" for p in operation.get("parameters", []))
        if has_body or has_query:
            statuses["400"] = REFUSALS["400"]
        perms = {type(permission) for permission in self.view.get_permissions()}
        if permissions.AllowAny not in perms:
            statuses["401"] = REFUSALS["401"]
            statuses["403"] = REFUSALS["403"]
        if "{" in self.path:
            statuses["404"] = REFUSALS["404"]
        elif self.method == "GET" and self._is_list_view() and self._get_paginator():
            statuses["404"] = NO_SUCH_PAGE
        if self.method in WRITES:
            statuses["409"] = REFUSALS["409"]
        if has_body:
            statuses["413"] = REFUSALS["413"]
            statuses["415"] = REFUSALS["415"]
        # A token refused too often from one address is a 429, not a 401.
        if "401" in statuses or self.view.get_throttles():
            statuses["429"] = REFUSALS["429"]
        return statuses

    def _refusal(self, status_code: str, description: str) -> dict[str, Any]:
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        if status_code == "400":
            self.registry.register_on_missing(FIELD_ERRORS)
            schema = {"anyOf": [FIELD_ERRORS.ref, error]}
        else:
            schema = error
        response = {
            "description": description,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": schema}},
        }
        if status_code in HEADERS:
            response["headers"] = HEADERS[status_code]
        return response


def as_problem(schema: dict[str, Any]) -> None:
    """A refusal body's schema as a problem's, as ``config.problems.problem_body``
    answers it: the RFC's members first, a member of the body's own that bears one
    of their names renamed ``current_<name>`` (a refused transition's record
    ``status``), and any further member allowed (``additionalProperties``)."""
    properties = schema.get("properties", {})
    if properties.get("status", {}).get("type") == "integer" and (
        "instance" in properties
    ):
        schema.setdefault("additionalProperties", True)
        return  # an Error (or an ErrorSerializer's subclass) already
    own = {_own_name(name): prop for name, prop in properties.items()}
    renamed = [_own_name(name) for name in schema.get("required", [])]
    schema["properties"] = {
        **PROBLEM_PROPERTIES,
        **{name: own.pop(name) for name in ("detail", "code") if name in own},
        **own,
    }
    schema["required"] = list(dict.fromkeys([*PROBLEM_REQUIRED, *renamed]))
    schema.setdefault("additionalProperties", True)


def _own_name(name: str) -> str:
    """A refusal body's own member's name in its problem: its ``detail`` and
    ``code`` are the domain error's message and code, the problem's; any other is
    one of the error's extra members, named as the server names it."""
    return name if name in ("detail", "code") else extension_name(name)


def defaults_a_client_may_send(result, generator, request, public):
    """Drop every default that its own property's constraints refuse.

    A generated client sends a property's default when its caller leaves the property
    out: ``"till_receipt": ""`` with ``minLength: 1`` would make every such request
    a 400. The server applies its default to a field left out, so the schema need not
    name it."""
    # OpenAPI 3.0's schemas are JSON Schema draft 4's (nearly); 3.1's are 2020-12.
    validator = (
        Draft202012Validator
        if str(result.get("openapi", "")).startswith("3.1")
        else Draft4Validator
    )
    for component in result.get("components", {}).get("schemas", {}).values():
        _drop_refused_defaults(component, validator)
    return result


def _drop_refused_defaults(schema: dict[str, Any], validator) -> None:
    if "default" in schema and not _allowed(schema, schema["default"], validator):
        del schema["default"]
    for each in _inner_schemas(schema):
        _drop_refused_defaults(each, validator)


def times_of_day_as_written(result, generator, request, public):
    """A time of day (a store's opening, its pickup cut-off) is the location's local
    time, ``HH:MM[:SS]`` with no UTC offset; JSON Schema's ``time`` format demands
    an offset, so the schema says what is meant with a pattern instead."""
    for component in result.get("components", {}).get("schemas", {}).values():
        _times_of_day(component)
    return result


def _times_of_day(schema: dict[str, Any]) -> None:
    if schema.get("format") == "time":
        del schema["format"]
        schema["pattern"] = TIME_OF_DAY
        schema.setdefault("example", "09:00:00")
    for each in _inner_schemas(schema):
        _times_of_day(each)


def _inner_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    inner = [*schema.get("properties", {}).values()]
    for key in ("oneOf", "anyOf", "allOf"):
        inner.extend(schema.get(key, []))
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            inner.append(schema[key])
    return inner


def _allowed(prop: dict[str, Any], value: Any, validator=Draft4Validator) -> bool:
    if value is None:  # 3.0's `nullable`, or 3.1's `type: [..., "null"]`
        kinds = prop.get("type")
        return bool(prop.get("nullable")) or "null" in (
            kinds if isinstance(kinds, list) else [kinds]
        )
    if "$ref" in repr(prop):
        return True  # an enum's or a component's: spectacular checks those itself
    constraints = {key: item for key, item in prop.items() if key != "default"}
    return validator(constraints, format_checker=FormatChecker()).is_valid(value)
