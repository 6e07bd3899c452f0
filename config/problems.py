"""Errors as problem details (RFC 9457, ``application/problem+json``): the one shape
of every error answered under ``/api/``. ``type``, ``title``, ``status``, ``detail``
and ``instance`` as the RFC says; ``code`` and the older extra members kept beside
them as extension members, so clients that read ``code`` and ``detail`` still work.

First draft (pre-work of issue 44): ``problem_body`` and ``problem_response`` are the
helpers middleware and Django's error views use; DRF's answers go through
``config.api.exception_handler``.
"""

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, JsonResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_body(
    *, status: int, code: str, detail: str, instance: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        **extra,
    }


def problem_response(
    request: HttpRequest, *, status: int, code: str, detail: str, **extra: Any
) -> JsonResponse:
    body = problem_body(
        status=status, code=code, detail=detail, instance=request.path, **extra
    )
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
