"""What the contract tests share: the schema as /api/schema/ serves it, and the
Django application called as a WSGI server calls it, within the test's transaction."""

import json
from contextlib import contextmanager

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer


@pytest.fixture(scope="module")
def openapi() -> dict:
    """The schema as /api/schema/ serves it, built in-process."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


@contextmanager
def connection_kept():
    """What Django's test client does around each request: the connection it shares
    with the test (and the test's transaction) is not closed as a request ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def in_process_app(db):
    """The Django application as a WSGI server calls it, within the test's
    transaction."""
    handler = WSGIHandler()

    def application(environ, start_response):
        with connection_kept():
            response = handler(environ, start_response)
        finish = response.close

        def close():
            with connection_kept():
                finish()

        response.close = close
        return response

    return application
