"""DRF authentication with ``Authorization: Token <token>``.

A token that fails (malformed, unknown, revoked) counts against the client's address
(``config.throttling.token_failed``); past ``THROTTLE_TOKEN_FAILURES`` the answer is
429 with ``Retry-After`` instead of 401. A valid token never touches the count."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from config.throttling import token_failed

from .models import Integration
from .selectors import api_token_for_raw
from .services import api_token_touch

KEYWORD = "Token"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise _failed(
                request, "Invalid token header: send 'Authorization: Token <token>'."
            )
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise _failed(request, "Invalid token.") from error
        token = api_token_for_raw(raw_token=raw)
        if token is None:
            raise _failed(request, "Invalid or revoked token.")
        api_token_touch(token=token)
        return Integration(token), token

    def authenticate_header(self, request) -> str:
        return KEYWORD


def _failed(request, message: str) -> exceptions.APIException:
    """401 with ``message``, or 429 once this address has failed too often."""
    wait = token_failed(request)
    if wait is None:
        return exceptions.AuthenticationFailed(message)
    return exceptions.Throttled(
        wait=wait, detail="Too many failed tokens from this address."
    )


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            # An apiKey scheme sends the header's value as given: the value is the
            # word `Token`, a space and the key (a generated client's prefix).
            "description": "The header's value is `Token <key>`: the word `Token`, "
            "a space and the key `manage.py create_api_token` printed, e.g. "
            "`Authorization: Token 3f9c…`. Without it, or with a key unknown or "
            "revoked: 401.",
        }
