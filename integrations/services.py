"""Issuing and revoking API tokens."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from catalog.models import Channel
from config.access import NEVER_FOR_A_CHANNEL, Scope, default_scopes
from config.errors import Conflict, InvalidInput, NotFound

from .models import ApiToken, token_digest
from .selectors import api_token_forget

TOKEN_PREFIX_LENGTH = 8
# Writing last_used_at on every call would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenNameTaken(Conflict):
    code = "token_name_taken"


def api_token_create(
    *,
    name: str,
    channel_code: str | None = None,
    scopes: list[str] | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token; the raw token is returned once and never stored. ``scopes``
    left out: every scope a token of its kind may hold (``default_scopes``)."""
    channel = None
    if channel_code is not None:
        channel = Channel.objects.filter(code=channel_code).first()
        if channel is None:
            raise NotFound(f"No channel with code {channel_code!r}.")
    scopes = _checked_scopes(scopes, bound=channel is not None)
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        if ApiToken.objects.filter(name=name, revoked_at__isnull=True).exists():
            raise TokenNameTaken(
                f"A live token named {name!r} exists; revoke it first (revoke_api_token)."
            )
        token = ApiToken.objects.create(
            name=name,
            channel=channel,
            scopes=scopes,
            prefix=raw[:TOKEN_PREFIX_LENGTH],
            digest=token_digest(raw),
        )
    return token, raw


def _checked_scopes(scopes: list[str] | None, *, bound: bool) -> list[str]:
    if scopes is None:
        return default_scopes(bound=bound)
    known = {scope.value for scope in Scope}
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise InvalidInput(
            {"scopes": [f"Unknown scope {scope!r}." for scope in unknown]},
            f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(Scope)}.",
        )
    retailers = sorted(set(scopes) & NEVER_FOR_A_CHANNEL) if bound else []
    if retailers:
        raise InvalidInput(
            {"scopes": [f"A channel's token may not hold {retailers[0]}."]},
            f"A token bound to a channel may not hold {', '.join(retailers)}: "
            "master data and the exception queue are the retailer's.",
        )
    if not scopes:
        raise InvalidInput(
            {"scopes": ["Give at least one scope."]}, "Give at least one scope."
        )
    # Kept in the table's order, once each, whatever order they were given in.
    return [scope.value for scope in Scope if scope in set(scopes)]


def api_token_revoke(*, name: str) -> ApiToken:
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update(no_key=True)
            .filter(name=name, revoked_at__isnull=True)
            .first()
        )
        if token is None:
            raise NotFound(f"No live token named {name!r}.")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    api_token_forget(digest=token.digest)
    return token


def api_token_reissue(
    *, name: str, channel_code: str | None = None
) -> tuple[ApiToken, str]:
    """Revoke the live token of this name, if any, and issue a new one in its place."""
    with transaction.atomic():
        if ApiToken.objects.filter(name=name, revoked_at__isnull=True).exists():
            api_token_revoke(name=name)
        return api_token_create(name=name, channel_code=channel_code)


def api_token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
