"""Who may act for which channel. Kept free of app imports so every app's API can use it.

An API token bound to a channel carries ``bound_channel_code``; a token with no binding,
and a staff member signed in to the back-office, may act for any channel.
"""

from typing import Any

from rest_framework.request import Request

from .errors import PermissionRefused


class ChannelNotPermitted(PermissionRefused):
    code = "channel_not_permitted"


def bound_channel_code(request: Request) -> str | None:
    return getattr(request.auth, "bound_channel_code", None)


def with_bound_channel(request: Request, payload: Any) -> Any:
    """A token bound to a channel need not name it in every body: ``channel`` is filled
    in when left out. Anything but a JSON object is passed on for its serializer to
    refuse."""
    bound = bound_channel_code(request)
    if bound and isinstance(payload, dict) and "channel" not in payload:
        return {**payload, "channel": bound}
    return payload


def ensure_may_act_for_channel(request: Request, channel_code: str) -> None:
    bound = bound_channel_code(request)
    if bound is not None and bound != channel_code:
        raise ChannelNotPermitted(
            f"This token acts only for channel {bound!r}, not {channel_code!r}.",
            channel=bound,
        )


def actor_of(request: Request) -> str:
    """Who is acting, as audit records name them: ``token:<name>`` for an integration,
    ``user:<username>`` for a signed-in member of staff."""
    if request.auth is not None and hasattr(request.auth, "name"):
        return f"token:{request.auth.name}"
    return f"user:{request.user.get_username()}"
