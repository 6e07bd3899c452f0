"""Prometheus metrics (placeholder: being built)."""

from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


def request_observed(*, route: str, method: str, status: int, seconds: float) -> None:
    """One request answered: counted and timed by route, method and status."""


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
