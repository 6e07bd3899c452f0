"""Answers while the database or the broker cannot be reached: 503 with
``Retry-After`` (``RETRY_AFTER_SECONDS``), a problem under ``/api/`` (code
``service_unavailable``, ``retry_after``: ``config.problems``) and a plain "try
again in a moment" page on the screens, never an HTML 500 or a hang (the
database's connect timeout bounds the wait, ``DATABASE_CONNECT_TIMEOUT_SECONDS``).

Two ways in: ``AnswerUnavailable`` (a middleware's ``process_exception``) for what a
view raised, which is almost everything; and ``config.views.server_error`` for what
a middleware raised (the session saved as the answer leaves). The page is drawn
without a request context: signing the person in again would ask the database.

A stock write the client did not hear back about is safe to send again with the
same reference (docs/api.md): it is recorded once."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

from .broker import BROKER_UNREACHABLE
from .database import database_unreachable
from .middleware import API
from .problems import problem_response

log = logging.getLogger(__name__)

# Which of the two could not be reached, for the words and the screens' script
# (static/js/screens.js reads the header).
UNAVAILABLE_HEADER = "X-Unavailable"


def _what(error: BaseException | None) -> str | None:
    if error is None:
        return None
    if database_unreachable(error):
        return "database"
    if isinstance(error, BROKER_UNREACHABLE):
        return "broker"
    return None


def unavailable_answer(
    request: HttpRequest, error: BaseException | None
) -> HttpResponse | None:
    """503 for ``error`` if it says the database or the broker cannot be reached;
    None for anything else: a statement the database refused (a deadlock, a
    timeout) or a bug stays a 500, logged and reported."""
    what = _what(error)
    if what is None:
        return None
    log.warning(
        "The %s cannot be reached (%s: %s); answered 503",
        what,
        type(error).__name__,
        str(error).splitlines()[0] if str(error) else "",
    )
    wait = settings.RETRY_AFTER_SECONDS
    if request.path_info.startswith(API):
        response = problem_response(
            request,
            status=503,
            code="service_unavailable",
            detail=f"The {what} cannot be reached just now; try again in "
            f"{wait} seconds. A stock write sent again with the same reference "
            "is recorded once.",
            retry_after=wait,
        )
    else:
        response = HttpResponse(
            render_to_string(
                "unavailable.html",
                {
                    "what": "its database" if what == "database" else "its job queue",
                    "retry_after": wait,
                    "was_get": request.method in ("GET", "HEAD"),
                    "again": _again(request),
                },
            ),
            status=503,
        )
    response["Retry-After"] = str(wait)
    response[UNAVAILABLE_HEADER] = what
    response["Cache-Control"] = "no-store"
    return response


def _again(request: HttpRequest) -> str:
    """Where "try again" goes: this page for a read; for a form sent, the screen it
    was sent from (the form's own address answers only a POST)."""
    if request.method in ("GET", "HEAD"):
        # Never "//elsewhere": a path of this site, whatever the request's was.
        return "/" + request.get_full_path().lstrip("/")
    came_from = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(
        came_from, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return came_from
    return "/"


class AnswerUnavailable:
    """A view that failed for want of the database or the broker answers 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        return unavailable_answer(request, exception)
