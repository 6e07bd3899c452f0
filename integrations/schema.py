"""The Idempotency-Key in the API's contract (a drf-spectacular postprocessing hook,
named in ``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``): every JSON POST under
``/api/v1/`` takes the optional header, and may answer 409 (the key is in flight)
and 422 (the key was used with another body). docs/api.md says how it works."""

from typing import Any

from config.problems import PROBLEM_CONTENT_TYPE

from .idempotency import (
    HEADER,
    MAX_KEY_LENGTH,
    MAX_REFERENCE_KEY_LENGTH,
    REPLAYED_HEADER,
)

ERROR_REF = {"$ref": "#/components/schemas/Error"}
KEY_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Your key for this request (draft-ietf-httpapi-idempotency-key-"
    'header): a quoted string, e.g. `"4f1c2a9e-0b7d"`, or the same bare, '
    "`4f1c2a9e-0b7d`. The same key and body "
    "again: the first answer again, with `Idempotent-Replayed: true`; another body: "
    "422; while the first is running: 409. Where the body has its own reference "
    "(`reference`, `request_reference`), a body without one takes the key as it, "
    "so the key must then be a reference: 1 to "
    f"{MAX_REFERENCE_KEY_LENGTH} printable characters without spaces, not "
    "starting with `#` (else 400 `idempotency_key_malformed`); a different "
    "reference in the body is a 400 `idempotency_key_mismatch`. Kept at least "
    "24 hours, per token.",
    # Printable characters other than \ and ", quoted; or bare, without spaces.
    "schema": {
        "type": "string",
        "pattern": (
            rf'^("[\x20\x21\x23-\x5b\x5d-\x7e]{{1,{MAX_KEY_LENGTH}}}"'
            rf"|[\x21\x23-\x5b\x5d-\x7e]{{1,{MAX_KEY_LENGTH}}})$"
        ),
    },
}
IN_FLIGHT = (
    "`idempotency_key_in_flight`: a request with this Idempotency-Key is still "
    "running; retry after `Retry-After` seconds. "
    "`idempotency_key_answer_not_kept`: the key's request succeeded, but its answer "
    "carried a secret (a webhook subscription's), shown once and not replayed."
)
REUSED = "`idempotency_key_reused`: the Idempotency-Key was used with another body."


def idempotency_key_on_posts(result, generator, request, public):
    for path, item in result.get("paths", {}).items():
        operation = item.get("post")
        if not path.startswith("/api/v1/") or operation is None:
            continue
        content = operation.get("requestBody", {}).get("content", {})
        if content and all(kind.startswith("multipart/") for kind in content):
            continue  # a file upload: idempotent by the file's digest
        _document(operation)
    return result


def _document(operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    if any(p.get("name") == HEADER for p in parameters):
        return  # documented already
    parameters.append(dict(KEY_PARAMETER))
    responses = operation.setdefault("responses", {})
    for status, description in (("409", IN_FLIGHT), ("422", REUSED)):
        answer = responses.setdefault(status, {"description": ""})
        answer["description"] = " ".join(
            part for part in (answer.get("description"), description) if part
        )
        _problem_content(answer)
    if "400" in responses:
        _problem_content(responses["400"])
    for status, answer in responses.items():
        if status.startswith("2"):
            answer.setdefault("headers", {}).setdefault(
                REPLAYED_HEADER,
                {
                    "description": "`true` on an answer replayed for a repeated "
                    "Idempotency-Key.",
                    "schema": {"type": "string", "enum": ["true"]},
                },
            )


def _problem_content(answer: dict[str, Any]) -> None:
    """The answer's body also as problem+json (what the key's refusals are sent
    as): the schema it declares already, or ``Error``, the key's refusals' own."""
    content = answer.setdefault("content", {})
    if PROBLEM_CONTENT_TYPE in content:
        return
    declared = next(
        (kind["schema"] for kind in content.values() if "schema" in kind), None
    )
    if declared is None or declared == ERROR_REF:
        content[PROBLEM_CONTENT_TYPE] = {"schema": ERROR_REF}
    elif "anyOf" in declared and ERROR_REF in declared["anyOf"]:
        content[PROBLEM_CONTENT_TYPE] = {"schema": declared}
    else:
        content[PROBLEM_CONTENT_TYPE] = {"schema": {"anyOf": [declared, ERROR_REF]}}
