"""Idempotency-Key on the API's POSTs (docs/api.md, draft-ietf-httpapi-idempotency-
key-header-07): a retry with the same key and body is answered with the first answer;
another body under the same key is a 422; a key whose first request is still running
is a 409, safe to retry.

Two halves, each at the layer that can do its part with public APIs:

- ``IdempotencyKeys``, a middleware, keeps the keys and the answers. A key is scoped
  to its caller (the token, or the signed-in member of staff), the method and the
  path: one caller's answer is never replayed to another, nor to a caller who may no
  longer make the call (a token revoked or without the view's scope, a user no longer
  active): their request goes to the view, which refuses it, and the key is not
  touched. What is kept: 2xx and 4xx answers the view gave, as Stripe keeps them,
  except those that say "try again" (401, 403, 407, 408, 425, 429, a 409
  ``concurrent_conflict``, any answer with ``Retry-After``); every other answer (5xx
  included) lets the key go, so a retry runs again. A view whose success carries a
  secret, shown once, says so (``idempotency_keeps_answer = False``, or a mapping from
  action to it as below): its 2xx answer's body is not kept, and the key again is a
  409 ``idempotency_key_answer_not_kept`` (nothing runs twice, no secret is stored).
  The rows and their in-flight lease: integrations/idempotency_store.py.
- ``KeyAsReferenceJSONParser``, the API's JSON parser, maps the key onto the body's
  own idempotency reference where the view declares one (``idempotency_reference``,
  a field name, or a mapping from a viewset's action to one, ``"*"`` for the other
  actions): a body without a reference gets the key as its reference, so the
  reference's idempotency holds even for a later retry sent without the header. A
  body whose reference differs from the key is refused (400
  ``idempotency_key_mismatch``) by the middleware, before the key is claimed; so is
  a key that cannot be a reference (``REFERENCE_KEY``: 400
  ``idempotency_key_malformed``), rather than a 400 about a field never sent. A JSON
  list (a batch of movements) is not mapped: the key stands for the whole request
  and each item keeps its own reference.

A multipart body (a file import) is left alone: it is idempotent by the file's digest
(docs/imports.md), and its body is not read into memory here.
"""

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from rest_framework.parsers import JSONParser

from config.access import staff_scopes
from config.parsers import SafeJSONParser
from config.problems import problem_response

from .idempotency_store import (
    Claim,
    body_fingerprint,
    idempotency_key_answer,
    idempotency_key_claim,
    idempotency_key_forget,
)
from .models import IdempotencyKey
from .selectors import api_token_for_raw

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
API_PREFIX = "/api/"
MAX_KEY_LENGTH = 255
# An sf-string (RFC 8941 §3.3.3): printable ASCII in double quotes, with \" and \\
# the only escapes. The draft's key is a String item; no parameters are defined.
SF_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
ESCAPE = re.compile(r"\\([\"\\])")
# Many clients (Stripe's, Shopify's habits) send the key bare, unquoted: accepted as
# the same key, so long as it is printable ASCII with no space, quote or backslash.
BARE_KEY = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# A key that becomes a body's reference must be one: the rule every reference field
# shares (printable, no spaces; '#' starts the system's own), within the shortest of
# their limits (a return's reference: 64; the others take 100).
MAX_REFERENCE_KEY_LENGTH = 64
REFERENCE_KEY = re.compile(rf"[!-\x22\x24-~][!-~]{{0,{MAX_REFERENCE_KEY_LENGTH - 1}}}")
# Headers of an answer replayed with it; the rest (security headers, Vary, cookies)
# are written afresh by the other middleware on the way out.
KEPT_HEADERS = ("Content-Type", "Location", "Link", "Content-Language", "ETag")
# Answers that invite a retry: kept, they would be replayed for ever.
NOT_KEPT_STATUSES = {401, 403, 407, 408, 425, 429}
RETRYABLE_CODES = {"concurrent_conflict"}


def parse_key(raw: str) -> str | None:
    """The key an ``Idempotency-Key`` header carries, or None if it is malformed."""
    raw = raw.strip(" ")
    if BARE_KEY.fullmatch(raw):
        key = raw
    else:
        found = SF_STRING.fullmatch(raw)
        if found is None:
            return None
        key = ESCAPE.sub(r"\1", found.group(1))
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    return key


def _declared(view_class: type | None, name: str, action: str | None, default: Any):
    """A view's declaration: a value, or a mapping from a viewset's action to one
    ("*": every other POST action)."""
    declared = getattr(view_class, name, default)
    if isinstance(declared, Mapping):
        return declared.get(action, declared.get("*", default)) if action else default
    return declared


def reference_field(view_class: type | None, action: str | None) -> str | None:
    """The body field a view keeps its idempotency reference in, for this action."""
    return _declared(view_class, "idempotency_reference", action, None)


def keeps_answer(view_class: type | None, action: str | None) -> bool:
    """False where the view's success carries a secret, not to be stored."""
    return _declared(view_class, "idempotency_keeps_answer", action, True)


def caller_of(request: HttpRequest, view_class: type | None = None) -> str | None:
    """Who a key belongs to: the API token (by its digest, as it is stored), else
    the signed-in user. None, so that the view answers alone and the key is left
    untouched, for a caller the view will refuse: anonymous, a token unknown or
    revoked, a user no longer active, or one without the scope the view writes with
    (checked as ``HoldsTheScope`` checks it, where the view names it plainly)."""
    words = request.headers.get("Authorization", "").split()
    if len(words) == 2 and words[0].lower() == "token":
        # The authentication's own look-up: a revoked token is refused here as there.
        token = api_token_for_raw(raw_token=words[1])
        if token is None:
            return None
        caller, held = f"token:{token.digest}", token.scopes
    else:
        user = getattr(request, "user", None) or AnonymousUser()
        if not (user.is_authenticated and user.is_active):
            return None
        caller, held = f"user:{user.pk}", staff_scopes(user)
    needed = getattr(view_class, "write_scope", None) or getattr(
        view_class, "read_scope", None
    )
    # A scope worked out per request (a property) is left to the view to check.
    if isinstance(needed, str) and needed not in held:
        return None
    return caller


class IdempotencyKeys:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        claimed: IdempotencyKey | None = getattr(request, "idempotency_claim", None)
        if claimed is None:
            return response
        try:
            if _kept(response):
                idempotency_key_answer(
                    row=claimed,
                    status=response.status_code,
                    headers={
                        name: response[name]
                        for name in KEPT_HEADERS
                        if response.has_header(name)
                    },
                    body=response.content,
                    # An error carries no secret: kept as any other.
                    body_kept=getattr(request, "idempotency_keeps_answer", True)
                    or response.status_code >= 300,
                )
            else:
                idempotency_key_forget(row=claimed)
        except DatabaseError:
            # The work is done: answer it. The key stays in flight until its lease
            # ends; a retry after that runs again, held by the body's reference.
            log.warning("Idempotency-Key %r: the answer was not kept", claimed.key)
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if request.method != "POST" or not request.path.startswith(API_PREFIX):
            return None
        raw = request.headers.get(HEADER)
        if raw is None or request.content_type.startswith("multipart/"):
            return None
        view_class = getattr(view_func, "cls", None)
        action = (getattr(view_func, "actions", None) or {}).get("post")
        caller = caller_of(request, view_class)
        if caller is None:
            return None  # refused by the view: 401 or 403
        key = parse_key(raw)
        if key is None:
            return problem_response(
                request,
                status=400,
                code="idempotency_key_malformed",
                detail=f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable "
                'characters, quoted as a structured-field String ("8e03978e-40d5") '
                "or bare (8e03978e-40d5) without spaces.",
            )
        body = request.body
        field = reference_field(view_class, action)
        given = _reference_given(body, field) if field is not None else None
        if given not in (None, "") and given != key:
            return problem_response(
                request,
                status=400,
                code="idempotency_key_mismatch",
                detail=f"The body's {field!r} differs from the {HEADER}: send "
                "the same value in both, or only one of them.",
                field=field,
            )
        if given == "" and not REFERENCE_KEY.fullmatch(key):
            # The key would become the body's reference: refused as the key it is.
            return problem_response(
                request,
                status=400,
                code="idempotency_key_malformed",
                detail=f"This {HEADER} becomes the body's {field!r}, so it must "
                f"be 1 to {MAX_REFERENCE_KEY_LENGTH} printable characters without "
                "spaces, not starting with '#'; or send the reference in the body.",
                field=field,
            )
        claimed = idempotency_key_claim(
            caller=caller,
            method=request.method,
            path=request.path,
            key=key,
            fingerprint=body_fingerprint(body),
        )
        if claimed.outcome == Claim.REUSED:
            return problem_response(
                request,
                status=422,
                code="idempotency_key_reused",
                detail=f"This {HEADER} was used with another request body: use a "
                "new key for a new request.",
            )
        if claimed.outcome == Claim.IN_FLIGHT:
            refused = problem_response(
                request,
                status=409,
                code="idempotency_key_in_flight",
                detail=f"A request with this {HEADER} is still being processed: "
                "retry in a moment for its answer.",
            )
            refused["Retry-After"] = "1"
            return refused
        if claimed.outcome == Claim.REPLAY and not claimed.row.body_kept:
            return _answer_not_kept(request, claimed.row)
        if claimed.outcome == Claim.REPLAY:
            return _replayed(claimed.row)
        # The parser reads it to fill in a body's missing reference.
        request.idempotency_key = key
        request.idempotency_claim = claimed.row
        request.idempotency_keeps_answer = keeps_answer(view_class, action)
        return None


def _answer_not_kept(request: HttpRequest, row: IdempotencyKey) -> HttpResponse:
    """The key again, where the first answer carried a secret: what happened, and
    where the resource is (its ``Location``, when the first answer gave one)."""
    where = {"location": row.headers["Location"]} if "Location" in row.headers else {}
    return problem_response(
        request,
        status=409,
        code="idempotency_key_answer_not_kept",
        detail=f"The request with this {HEADER} was answered {row.status}; its "
        "answer carried a secret, shown once and not kept. Read the resource, and "
        "rotate its secret with a new key if the first answer was lost.",
        **where,
    )


def _reference_given(body: bytes, field: str) -> Any:
    """The body's reference: "" when the body (an object) has none, so the key would
    become it; None when the key is not mapped (a list, or not JSON: the view answers
    the parse error)."""
    try:
        data = orjson.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    given = data.get(field)
    return "" if given in (None, "") else given


def _kept(response: HttpResponse) -> bool:
    status = response.status_code
    if response.streaming or not (200 <= status < 300 or 400 <= status < 500):
        return False
    if status in NOT_KEPT_STATUSES or response.has_header("Retry-After"):
        return False
    if status == 409:
        try:
            code = orjson.loads(response.content).get("code")
        except (ValueError, AttributeError):
            code = None
        return code not in RETRYABLE_CODES
    return True


def _replayed(row: IdempotencyKey) -> HttpResponse:
    answer = HttpResponse(bytes(row.body), status=row.status)
    for name, value in row.headers.items():
        answer[name] = value
    answer[REPLAYED_HEADER] = "true"
    return answer


class KeyAsReferenceJSONParser(SafeJSONParser):
    """JSON as ``SafeJSONParser`` reads it; a body object without the view's
    idempotency reference gets the request's Idempotency-Key as that reference (the
    middleware has checked that a reference given equals the key)."""

    media_type = JSONParser.media_type

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        context = parser_context or {}
        key = getattr(context.get("request"), "idempotency_key", None)
        view = context.get("view")
        if key is None or view is None or not isinstance(data, dict):
            return data
        field = reference_field(type(view), getattr(view, "action", None))
        if field is not None and data.get(field) in (None, ""):
            data[field] = key
        return data
