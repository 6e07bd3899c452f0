"""Request handling every view shares: the NUL check, the request id on every error
of the API, and messages for the screens only. Imports nothing from the apps."""

import orjson
from django.contrib.messages.middleware import MessageMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_guid import get_guid

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
                return JsonResponse({"detail": message, "code": "invalid"}, status=400)
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


class RequestIdOnApiErrors:
    """Every error under ``/api/`` names its request: ``request_id`` in the JSON body,
    whichever layer answered (DRF's exception handler, Django's error views in
    ``config.views``, a middleware such as the NUL check), a 500 included.

    The id is django-guid's (its middleware, just before this one): a UUID the caller
    or the proxy sends in ``X-Request-ID`` is kept, anything else replaced by a new
    one; it is answered in the same header, and ``LOGGING`` writes it on every server
    log line of the request, so the id a client quotes finds the server's lines. Only
    an error's body is read again; a bare list of messages (errors of no one field)
    becomes ``non_field_errors``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path_info.startswith(API)
            and not response.streaming
            and "json" in response.get("Content-Type", "").partition(";")[0]
        ):
            self._stamp(response)
        return response

    @staticmethod
    def _stamp(response: HttpResponse) -> None:
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return
        if isinstance(body, list):
            body = {"non_field_errors": body}
        elif not isinstance(body, dict):
            body = {"detail": body}
        body["request_id"] = get_guid()
        response.content = orjson.dumps(body)
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))


class MessagesForScreens(MessageMiddleware):
    """Django's messages (the notice a screen shows once, after a form) for the
    screens only: the API never shows one, and setting their storage up (a cookie
    store, a session store, a signer) cost every API request more than its
    authentication. Under ``/api/`` ``messages.get_messages`` is empty and
    ``messages.add_message`` refuses, as Django does without the middleware."""

    def process_request(self, request: HttpRequest) -> None:
        if not request.path_info.startswith(API):
            super().process_request(request)
