"""The short way through content negotiation (config.negotiation) answers every request
as DRF's own negotiation would, renderer and media type alike."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from config.negotiation import ContentNegotiation
from inventory.renderers import STOCK_RENDERERS

DEFAULT_RENDERERS = api_settings.DEFAULT_RENDERER_CLASSES


def answer(negotiation, renderers, path, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(path, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(
            request, [renderer() for renderer in renderers]
        )
    except NotAcceptable:
        return "406"
    return type(renderer), media_type


@pytest.mark.parametrize("renderers", [STOCK_RENDERERS, DEFAULT_RENDERERS])
@pytest.mark.parametrize(
    "path, accept",
    [
        ("/api/v1/reservations/", None),
        ("/api/v1/reservations/", ""),
        ("/api/v1/reservations/", "*/*"),
        ("/api/v1/reservations/", "application/json"),
        ("/api/v1/reservations/", "application/json; indent=4"),
        ("/api/v1/reservations/", "text/html"),
        ("/api/v1/reservations/", "text/html, application/json;q=0.9, */*;q=0.8"),
        ("/api/v1/reservations/", "image/png"),
        ("/api/v1/reservations/?format=api", None),
        ("/api/v1/reservations/?status=active", None),
        ("/api/v1/reservations/?status=active&format=api", "*/*"),
        ("/api/v1/reservations/?format=json", "text/html"),
    ],
)
def test_every_accept_header_gets_what_drf_would_give_it(renderers, path, accept):
    assert answer(ContentNegotiation(), renderers, path, accept) == answer(
        DefaultContentNegotiation(), renderers, path, accept
    )


def test_the_api_uses_the_short_way():
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is ContentNegotiation
