"""Reads of API tokens."""

from .models import ApiToken
from .services import token_digest


def api_token_for_raw(*, raw_token: str) -> ApiToken | None:
    """The live token matching ``raw_token``, or None (unknown or revoked)."""
    return (
        ApiToken.objects.select_related("channel")
        .filter(digest=token_digest(raw_token), revoked_at__isnull=True)
        .first()
    )
