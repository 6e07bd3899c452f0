"""The back-office landing page, a health check for load balancers, and Django's own
error views (``handler400`` and the rest in ``config.urls``): JSON under ``/api/``,
Django's pages elsewhere; a 500 for want of the database or the broker is a 503
(``config.unavailable``).

Django answers with these when the error is not the API's to answer: a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), a path no view has (404), an exception no
handler knew (500). ``config.middleware.RequestId`` adds the request id."""

import sys

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults

from .middleware import API
from .unavailable import unavailable_answer


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def _api_error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not request.path_info.startswith(API):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return _api_error(
            413,
            f"The body is larger than the server accepts ({limit:,} bytes).",
            "request_too_large",
        )
    return _api_error(400, "The request is malformed.", "bad_request")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not request.path_info.startswith(API):
        return defaults.permission_denied(request, exception)
    return _api_error(
        403, "You do not have permission to perform this action.", "permission_denied"
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not request.path_info.startswith(API):
        return defaults.page_not_found(request, exception)
    return _api_error(404, "Not found.", "not_found")


def server_error(request: HttpRequest) -> HttpResponse:
    # Raised by a middleware (a view's is answered by config.unavailable's own):
    # the database or the broker out of reach is a 503 to retry, not a 500.
    unavailable = unavailable_answer(request, sys.exc_info()[1])
    if unavailable is not None:
        return unavailable
    if not request.path_info.startswith(API):
        return defaults.server_error(request)
    return _api_error(
        500,
        "The server failed to answer; quote the request id to have it looked into.",
        "server_error",
    )
