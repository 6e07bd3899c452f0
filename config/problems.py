"""Errors as problem details (RFC 9457, ``application/problem+json``): the one shape
of every error answered under ``/api/``, whichever layer answers it.

- The RFC's members: ``type``, ``title``, ``status``, ``detail`` and ``instance``
  (the request's path). ``type`` is ``about:blank`` and ``title`` the status's
  phrase (``Conflict``), as the RFC says for a problem with no page of its own:
  nothing serves a page per problem, and an address that answers nothing would be
  worse than none. ``code`` tells one problem from another, as it always did.
- Extension members: ``code`` and whatever the error carries (``shortages``,
  ``allowed``, ``latest_cursor``, ``retry_after``, …), beside the RFC's, so that a
  client that read ``code`` and ``detail`` still does. One that bears a name the
  RFC takes is answered as ``current_<name>``: a refused status change's record
  ``status`` is ``current_status`` (``status`` is the HTTP status).
- A 400 for fields (``field_problem_body``): ``code`` ``invalid``, ``detail`` the
  first message in one line, ``errors`` the whole map as DRF made it (for a list,
  the list), and each field's messages also as a member of its own name where that
  name is free, as the body was before.

Who answers with them: ``config.api.exception_handler`` (DRF's answers and every
domain error a view raises, as a ``ProblemResponse``), Django's error views
(``config.views``), the 503s of ``config.unavailable``, the NUL check, the
idempotency keys (``problem_response``). No view writes an error body of its own:
one with more to say raises its domain error with the extra members.
``config.middleware.RequestId`` stamps ``request_id`` into each.

The members' names and the renaming rule (``PROBLEM_MEMBERS``, ``extension_name``)
are also what ``config.schema`` describes.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"
ABOUT_BLANK = "about:blank"
INVALID = "invalid"
# The members every problem has: the RFC's and ``code``.
EVERY_PROBLEM_MEMBERS = ("type", "title", "status", "detail", "instance", "code")
# ``errors`` in a 400 for fields; ``request_id``, which config.middleware.RequestId
# writes into every error under /api/.
REQUEST_ID = "request_id"
# Members no error's own may take (``extension_name``).
PROBLEM_MEMBERS = frozenset({*EVERY_PROBLEM_MEMBERS, "errors", REQUEST_ID})
# The code of a problem whose answerer named none, by status.
CODE_BY_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
    500: "server_error",
    503: "service_unavailable",
}


def title_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A problem: the RFC's members, ``code``, then the error's own ``extra`` as
    extension members, renamed here and only here (``extension_name``)."""
    body = {
        "type": ABOUT_BLANK,
        "title": title_of(status),
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
    }
    body.update((extension_name(name), value) for name, value in (extra or {}).items())
    return body


def extension_name(name: str) -> str:
    """An error's own member's name in a problem: one the problem takes is
    ``current_<name>`` (a refused transition's record ``status`` is
    ``current_status``)."""
    return f"current_{name}" if name in PROBLEM_MEMBERS else name


def problem_response(
    request: HttpRequest, *, status: int, code: str, detail: str, **extra: Any
) -> JsonResponse:
    """A problem answered outside DRF: Django's error views, middleware (the
    idempotency keys' 400, 409 and 422 among them)."""
    body = problem_body(
        status=status, code=code, detail=detail, instance=request.path, extra=extra
    )
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)


def field_problem_body(
    errors: dict | list, *, instance: str, detail: str | None = None
) -> dict[str, Any]:
    """A 400 for the input: ``errors`` is DRF's map of field to messages (a list for
    a list of items, or messages about the body as a whole)."""
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        errors = {"non_field_errors": errors}  # as DRF words a whole body's errors
    body = problem_body(
        status=400, code=INVALID, detail=detail or summary(errors), instance=instance
    )
    body["errors"] = errors
    if isinstance(errors, dict):
        for name, messages in errors.items():
            if name not in PROBLEM_MEMBERS:
                body[name] = messages
    else:  # a list of items: what the body was called before it was a problem
        body["non_field_errors"] = errors
    return body


def summary(errors: Any) -> str:
    """The first message, where it is (``lines[1].sku: Unknown SKU 'X'.``), and how
    many more ``errors`` holds: a field error's ``detail`` in one line."""
    messages = list(_messages(errors, ""))
    if not messages:
        return "Invalid input."
    where, first = messages[0]
    text = f"{where}: {first}" if where else first
    if len(messages) > 1:
        text += f" (and {len(messages) - 1} more: see errors)"
    return text


def _messages(errors: Any, where: str):
    if isinstance(errors, dict):
        for name, inner in errors.items():
            if name == "non_field_errors":
                yield from _messages(inner, where)
            else:
                yield from _messages(inner, f"{where}.{name}" if where else str(name))
    elif isinstance(errors, list):
        for index, inner in enumerate(errors):
            if isinstance(inner, dict | list):
                yield from _messages(inner, f"{where}[{index}]")
            else:
                yield where, str(inner)
    elif errors is not None:
        yield where, str(errors)


class ProblemResponse(Response):
    """DRF's answer to an error: ``application/problem+json`` when it is rendered as
    JSON (whatever JSON the client accepted; a problem is JSON), else as negotiated
    (the browsable API's page for a browser)."""

    @property
    def rendered_content(self):
        if isinstance(getattr(self, "accepted_renderer", None), JSONRenderer):
            self.content_type = PROBLEM_CONTENT_TYPE
        return super().rendered_content
