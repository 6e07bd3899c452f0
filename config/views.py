"""The back-office landing page, a health check for load balancers, and Django's own
error views (``handler400`` and the rest in ``config.urls``): problem details
(``application/problem+json``, ``config.problems``) under ``/api/``,
Django's pages elsewhere; a 500 for want of the database or the broker is a 503
(``config.unavailable``).

Django answers with these when the error is not the API's to answer: a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413), a path no view has (404), an exception no
handler knew (500). ``config.middleware.RequestId`` adds the request id."""

import sys

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults

from .middleware import API
from .problems import problem_response
from .unavailable import unavailable_answer


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not request.path_info.startswith(API):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem_response(
            request,
            status=413,
            code="request_too_large",
            detail=f"The body is larger than the server accepts ({limit:,} bytes).",
        )
    return problem_response(
        request, status=400, code="bad_request", detail="The request is malformed."
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not request.path_info.startswith(API):
        return defaults.permission_denied(request, exception)
    return problem_response(
        request,
        status=403,
        code="permission_denied",
        detail="You do not have permission to perform this action.",
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not request.path_info.startswith(API):
        return defaults.page_not_found(request, exception)
    return problem_response(request, status=404, code="not_found", detail="Not found.")


def server_error(request: HttpRequest) -> HttpResponse:
    # Raised by a middleware (a view's is answered by config.unavailable's own):
    # the database or the broker out of reach is a 503 to retry, not a 500.
    unavailable = unavailable_answer(request, sys.exc_info()[1])
    if unavailable is not None:
        return unavailable
    if not request.path_info.startswith(API):
        return defaults.server_error(request)
    return problem_response(
        request,
        status=500,
        code="server_error",
        detail="The server failed to answer; quote the request id to have it "
        "looked into.",
    )
