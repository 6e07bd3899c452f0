"""Request handling every view shares: the NUL check, each request's id (its header,
its log lines, every error of the API), each request's log line and metrics, and
messages for the screens only. Imports nothing from the apps."""

import functools
import logging
import re
import time
import uuid

import orjson
from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from .metrics import request_observed
from .problems import REQUEST_ID, problem_response
from .request_context import request_id_set

NUL = "\x00"
API = "/api/"  # where answers are JSON and no screen shows a message


class RefuseNulCharacters:
    """A NUL character in a query string or a form is never meaning, and PostgreSQL
    cannot store or compare it: the request is a 400 before any view sees it, not a
    500 from the database. JSON bodies are checked field by field by the API's
    serializers."""

    FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._carries_nul(request):
            message = "The request contains a NUL character, which is never valid."
            if request.path.startswith(API):
                return problem_response(
                    request, status=400, code="invalid", detail=message
                )
            return HttpResponse(message, status=400, content_type="text/plain")
        return self.get_response(request)

    def _carries_nul(self, request: HttpRequest) -> bool:
        if NUL in request.META.get("QUERY_STRING", "") or "%00" in request.META.get(
            "QUERY_STRING", ""
        ):
            return True
        if request.method == "POST" and request.content_type in self.FORMS:
            return any(
                NUL in value for values in request.POST.lists() for value in values[1]
            )
        return False


REQUEST_ID_HEADER = "X-Request-ID"


class RequestId:
    """Every request has an id: a UUID the caller or the proxy sends in
    ``X-Request-ID`` is kept, anything else is replaced by a new one (no caller
    writes text into the log). It is answered in the same header, written on every
    server log line of the request (``RequestIdLogFilter`` in ``LOGGING``), and put
    in the JSON body of every error under ``/api/`` as ``request_id``, whichever
    layer answered (DRF's exception handler, Django's error views in
    ``config.views``, a middleware such as the NUL check), a 500 included: the id a
    client quotes finds the server's lines.

    Written here rather than taken from django-guid, which did the same in some
    25 µs of a hold's 800 (its settings read and validated again, its log calls,
    its signals, every request; docs/performance.md): this is a header read, a UUID
    and a context variable. Only an error's body is read again, to take the id: every
    answerer under ``/api/`` writes it as a problem already (``config.problems``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.META.get("HTTP_X_REQUEST_ID")
        ident = _valid(given) or uuid.uuid4().hex
        request_id_set(ident)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = ident
        if (
            response.status_code >= 400
            and request.path_info.startswith(API)
            and not response.streaming
            and "json" in response.get("Content-Type", "").partition(";")[0]
        ):
            self._stamp(response, ident)
        return response

    @staticmethod
    def _stamp(response: HttpResponse, ident: str) -> None:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return
        if not isinstance(body, dict):
            return
        body[REQUEST_ID] = ident
        response.content = orjson.dumps(body)
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))


class RequestLog:
    """One log line per request (logger ``onestock.request``): method, path, the
    route it matched, status, duration, who asked (``token:<name>``,
    ``user:<username>``, or nobody known) and, from the filter, its id; and the
    request counted and timed for /metrics (``config.metrics``), by route, never by
    path. A streamed answer (a CSV export) is timed until it starts to stream.

    Who asked is read only where the request already knows it: a person is never
    looked up in the session just to be logged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        took = time.perf_counter() - started
        route = _route(request)
        status = response.status_code
        request_observed(
            route=route, method=request.method, status=status, seconds=took
        )
        # The load balancer's and Prometheus's asking, every few seconds, is
        # written only at DEBUG: it would drown the requests that matter.
        level = logging.DEBUG if route in PROBES else logging.INFO
        if request_log.isEnabledFor(level):
            request_log.log(
                level,
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                status,
                took * 1000,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(took * 1000, 3),
                    "client": _who(request),
                },
            )
        return response


request_log = logging.getLogger("onestock.request")
NO_ROUTE = "unmatched"  # a path no view has, or a request answered before routing
PROBES = frozenset({"healthz", "readyz", "metrics"})


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return _readable_route(match.route) if match is not None else NO_ROUTE


_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@functools.lru_cache(maxsize=512)
def _readable_route(route: str) -> str:
    """A route as people write it: ``api/v1/orders/<pk>/`` for DRF's regular
    expression ``api/v1/^orders/(?P<pk>[^/.]+)/$``."""
    return (
        _GROUP.sub(r"<\1>", route).replace("^", "").replace("$", "").replace("\\.", ".")
    )


def _who(request: HttpRequest) -> str | None:
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        if user._wrapped is empty:  # nobody asked who it was
            return None
        user = user._wrapped
    if user is None or not user.is_authenticated:
        return None
    token = getattr(user, "token", None)  # an integration's (integrations.Integration)
    if token is not None:
        return f"token:{token.name}"
    return f"user:{user.get_username()}"


def _valid(given: str | None) -> str | None:
    if not given:
        return None
    try:
        uuid.UUID(given)
    except ValueError:
        return None
    return given


class MessagesForScreens(MessageMiddleware):
    """Django's messages (the notice a screen shows once, after a form) for the
    screens only: the API never shows one, and setting their storage up (a cookie
    store, a session store, a signer) cost every API request more than its
    authentication. Under ``/api/`` ``messages.get_messages`` is empty and
    ``messages.add_message`` refuses, as Django does without the middleware."""

    def process_request(self, request: HttpRequest) -> None:
        if not request.path_info.startswith(API):
            super().process_request(request)
