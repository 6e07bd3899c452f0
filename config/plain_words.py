"""Plain words on every screen, as a store worker or a service agent says them: who
acted (a person's name, a channel's name, what the system did), how long something
has waited ("2 hours late") and how long ago. A built-in template library
(``TEMPLATES`` in settings): every template may use ``|who``, ``|duration`` and
``|late_by`` without loading it. Records keep their exact names (``user:sam``,
``token:demo-web-shop``, ``system:expiry``); only the screens translate them."""

from contextvars import ContextVar
from datetime import datetime, timedelta

from django import template
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.utils import timezone

register = template.Library()

# What each job of the system is called on a screen (Actor.system's job names).
JOBS = {
    "expiry": "Held stock expired (automatic)",
    "nightly": "Nightly reconciliation",
    "reconciliation": "Nightly reconciliation",
    "pickup": "One stock (pickup rules)",
    "returns": "One stock (returns rules)",
    "sync": "One stock (channel sync)",
    "webhooks": "One stock (messages to channels)",
    "wms": "The warehouse system",
    "system": "One stock",
    "demo": "The demo's set-up",
}


# Within one request a page names the same few people on every row of a timeline
# or a list (and a live region polls every few seconds): each name is looked up once
# per request. Outside a request (a job, a test's template) nothing is kept.
_names: ContextVar[dict | None] = ContextVar("plain_words_names", default=None)


def _request_started(**kwargs) -> None:
    _names.set({})


def _request_finished(**kwargs) -> None:
    _names.set(None)


request_started.connect(_request_started, dispatch_uid="plain_words_names")
request_finished.connect(_request_finished, dispatch_uid="plain_words_names_end")


@register.filter(is_safe=False)
def who(actor) -> str:
    """``user:sam`` → Sam Picker; ``token:demo-web-shop`` → the token's channel
    (Web shop) or the integration's name; ``system:expiry`` → what the job does."""
    name = str(actor or "").strip()
    known = _names.get()
    if known is None:
        return _named(name)
    if name not in known:
        known[name] = _named(name)
    return known[name]


def _named(name: str) -> str:
    kind, _, rest = name.partition(":")
    if not rest:
        return JOBS.get(name, name) or "Someone"
    if kind == "user":
        return _person(rest)
    if kind == "token":
        return _integration(rest)
    if kind == "system":
        return JOBS.get(rest, f"One stock ({rest.replace('_', ' ')})")
    return name


def _person(username: str) -> str:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return username
    return user.get_full_name() or user.get_username()


def _integration(token_name: str) -> str:
    token = (
        apps.get_model("integrations", "ApiToken")
        .objects.select_related("channel")
        .filter(name=token_name)
        .order_by("revoked_at", "-pk")  # the live token of that name, else the latest
        .first()
    )
    if token is not None and token.channel_id:
        return token.channel.name
    return f"Integration “{token_name}”"


@register.filter(is_safe=False)
def duration(value) -> str:
    """A span (seconds or a ``timedelta``) in the largest unit that reads well:
    "40 seconds", "12 minutes", "2 hours", "6 days"."""
    seconds = _seconds(value)
    if seconds is None:
        return ""
    seconds = abs(seconds)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size * (2 if unit != "minute" else 1):
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    count = int(seconds)
    return f"{count} second{'' if count == 1 else 's'}"


@register.filter(expects_localtime=False, is_safe=False)
def late_by(moment) -> str:
    """Against a deadline: "2 hours late" once it has passed, "in 40 minutes"
    before it."""
    if not isinstance(moment, datetime):
        return ""
    gap = (timezone.now() - moment).total_seconds()
    return f"{duration(gap)} late" if gap > 0 else f"in {duration(gap)}"


@register.filter(expects_localtime=False, is_safe=False)
def ago(moment) -> str:
    """ "5 minutes ago", or "just now" within a minute."""
    if not isinstance(moment, datetime):
        return ""
    gap = (timezone.now() - moment).total_seconds()
    return "just now" if gap < 60 else f"{duration(gap)} ago"


def _seconds(value) -> float | None:
    if isinstance(value, timedelta):
        return value.total_seconds()
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
