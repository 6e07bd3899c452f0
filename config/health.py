"""Liveness and readiness (placeholder: being built)."""

from django.http import HttpRequest, JsonResponse


def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
