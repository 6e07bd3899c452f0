"""Reads of API tokens.

Every API call names its token, so the look-up is on every request's path: a live
token is kept in this process for ``ONESTOCK_TOKEN_CACHE_SECONDS`` (default 5). A
token revoked here is forgotten at once (``api_token_forget``); revoked in another
process, or in the admin's form, it is refused within those seconds everywhere.
Unknown tokens are never kept, so guessing fills no memory.
"""

import time

from django.conf import settings

from .models import ApiToken, token_digest

# digest -> (monotonic time it may be kept until, the live token)
_live: dict[str, tuple[float, ApiToken]] = {}
_MAX_KEPT = 1000


def api_token_for_raw(*, raw_token: str) -> ApiToken | None:
    """The live token matching ``raw_token``, or None (unknown or revoked)."""
    digest = token_digest(raw_token)
    now = time.monotonic()
    kept = _live.get(digest)
    if kept is not None and kept[0] > now:
        return kept[1]
    token = (
        ApiToken.objects.select_related("channel")
        .filter(digest=digest, revoked_at__isnull=True)
        .first()
    )
    if token is None:
        _live.pop(digest, None)
        return None
    if len(_live) >= _MAX_KEPT:
        _live.clear()
    _live[digest] = (now + settings.ONESTOCK_TOKEN_CACHE_SECONDS, token)
    return token


def api_token_forget(*, digest: str) -> None:
    """Drop a token from this process's memory."""
    _live.pop(digest, None)
