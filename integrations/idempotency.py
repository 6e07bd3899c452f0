"""Idempotency-Key on the API's POSTs (docs/api.md): a retry with the same key and
body is answered with the first answer; another body under the same key is a 422; a
key whose first request is still running is a 409.

Stub of the pre-work of issue 44: passes every request through.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class IdempotencyKeys:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
