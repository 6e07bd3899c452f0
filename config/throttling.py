"""Slowing down guessing, per client address: failed sign-ins and unknown API tokens.

Sign-ins (the ``/login/`` screen, the admin's and the API browser's under
``/api-auth/``) all go through ``django.contrib.auth.authenticate``, which
django-axes watches: ``LOGIN_FAILURE_LIMIT`` failures from one address lock it out for
``LOGIN_COOLOFF_MINUTES`` after the last one, a correct password included, and each
try while locked out starts the wait again. ``login_locked_out`` is its answer: 429
with ``Retry-After``. ``LoginThrottle`` is axes' backend, standing aside for a call
that carries no request (a shell, the test client's ``login``): only a client's
sign-in has an address to count.

API tokens: a token that is unknown, revoked or malformed counts against its address
in the ``limits`` library's moving window (``THROTTLE_TOKEN_FAILURES``, kept where
``THROTTLE_STORAGE_URL`` says: Redis, so every server process counts together); over
the limit, the answer is 429 with ``Retry-After`` instead of 401 (DRF's ``Throttled``,
a problem with ``retry_after`` from ``config.api.exception_handler``). A valid token is
never looked up here: a checkout pays nothing for the limit, and an integration
behind the same address as a misconfigured one keeps working. If the storage cannot
be reached, the failure is logged and answered 401 as before (the limit fails open:
tokens are 256-bit random, so it is about load and noise, not about a guess
succeeding).

The client address is ``REMOTE_ADDR``, unless ``TRUSTED_PROXY_COUNT`` says how many
proxies of our own stand in front, each adding the address it was reached from to
``X-Forwarded-For``: then it is the one the outermost of them saw. Anything further
left in that header was written by the client and is never trusted.
"""

import functools
import ipaddress
import logging
import math
import time

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from limits import parse
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
TOKEN_FAILURES = "api-token-failures"
# A throttle must never hold a request up: Redis answers in well under this.
STORAGE_TIMEOUT_SECONDS = 0.5


def client_address(request) -> str:
    """Where the request came from, as far as we can trust it (see above), as it is
    counted: an IPv6 client by its /64, the network one household or one server is
    given, which it could otherwise walk through an address per guess."""
    proxies = settings.TRUSTED_PROXY_COUNT
    address = request.META.get("REMOTE_ADDR", "")
    if proxies > 0:
        hops = [
            hop.strip()
            for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if hop.strip()
        ]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return address
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


# ------------------------------------------------------------------ sign-ins


class LoginThrottle(AxesStandaloneBackend):
    """axes' check, first in ``AUTHENTICATION_BACKENDS``: a locked-out address is
    refused before any password is checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def login_locked_out(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """axes' answer to a locked-out address (``AXES_LOCKOUT_CALLABLE``): the sign-in
    page's place says how long to wait, and ``Retry-After`` says it to a program.
    Each try while locked out starts the wait again, so it is the whole cool-off."""
    seconds = math.ceil(get_cool_off(request).total_seconds())
    answer = render(
        request,
        "registration/locked_out.html",
        {"minutes": math.ceil(seconds / 60)},
        status=429,
    )
    answer["Retry-After"] = str(seconds)
    return answer


# ---------------------------------------------------------------- API tokens


@functools.cache
def _limiter() -> MovingWindowRateLimiter:
    url = settings.THROTTLE_STORAGE_URL
    options = {}
    if url.startswith("redis"):  # redis:// and rediss://
        options = {
            "socket_timeout": STORAGE_TIMEOUT_SECONDS,
            "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS,
        }
    return MovingWindowRateLimiter(
        storage_from_string(url, wrap_exceptions=True, **options)
    )


def token_failed(request) -> int | None:
    """Count one failed token from the request's address. None while the address is
    within ``THROTTLE_TOKEN_FAILURES``; over it, the whole seconds until it may try
    again."""
    rate = parse(settings.THROTTLE_TOKEN_FAILURES)
    address = client_address(request)
    try:
        limiter = _limiter()
        if limiter.hit(rate, TOKEN_FAILURES, address):
            return None
        reset_at, _ = limiter.get_window_stats(rate, TOKEN_FAILURES, address)
    except (StorageError, ConfigurationError) as failure:
        # A storage the limits library cannot use (THROTTLE_STORAGE_URL left to a
        # broker that is not Redis) fails open, as an unreachable one does.
        log.warning("token failures not counted (%s): %s", address, failure)
        return None
    return max(1, math.ceil(reset_at - time.time()))


def throttles_reset() -> None:
    """Forget every count of failed tokens (tests start from none)."""
    _limiter().storage.reset()
