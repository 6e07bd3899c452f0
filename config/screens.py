"""What every store screen shares (pickup queue, returns): times in the store's own
zone, sign-in with domain errors turned into readable messages or 404s, the store a
member of staff is looking at, whole numbers read from a form, and parts of a
screen that follow what others do (``live``). Imports nothing
from the apps, so every app's views can use it."""

import hashlib
import re
from collections.abc import Callable
from functools import wraps
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render as django_render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from .errors import DomainError, InvalidInput, NotFound

# One store chosen for every screen: a manager switching to Camden on the pickup
# queue finds Camden's returns too.
STORE_SESSION_KEY = "store"


def render(request: HttpRequest, template: str, context=None, status=None):
    """Times on a store's screen are the store's own."""
    location = (context or {}).get("location")
    zone = ZoneInfo(location.time_zone) if location else timezone.get_current_timezone()
    with timezone.override(zone):
        return django_render(request, template, context, status=status)


def staff_screen(view: Callable) -> Callable:
    """Signed in; work out of reach (``NotFound``) is a 404."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as missing:
            raise Http404(missing.message) from missing

    return wrapped


def readable(error: DomainError) -> str:
    """A refusal as one sentence for the screen."""
    if isinstance(error, InvalidInput):
        # The same words for several fields are said once.
        return " ".join(dict.fromkeys(_messages(error.field_errors)))
    return error.message


def _messages(errors) -> list[str]:
    """Every message of a field-error tree (a list of lines holds one dict each)."""
    if isinstance(errors, str):
        return [errors]
    values = errors.values() if isinstance(errors, dict) else errors
    return [message for value in values for message in _messages(value)]


def first_messages(errors) -> dict[str, str]:
    """A refusal's field errors as field name to its first message, however deep
    the refusal names it: what a screen shows under each field."""
    found: dict[str, str] = {}
    items = errors.items() if isinstance(errors, dict) else enumerate(errors)
    for name, value in items:
        if isinstance(value, list) and value and isinstance(value[0], str):
            found.setdefault(str(name), value[0])
        elif isinstance(value, (dict, list)):
            for inner, message in first_messages(value).items():
                found.setdefault(inner, message)
    return found


def chosen_store(request: HttpRequest, locations: list):
    """The store asked for (``?location=``), else the one chosen last, else the
    first the member of staff works at; None for someone with no store."""
    if not locations:
        return None
    by_code = {location.code: location for location in locations}
    wanted = request.GET.get("location") or request.session.get(STORE_SESSION_KEY)
    location = by_code.get(wanted) or locations[0]
    request.session[STORE_SESSION_KEY] = location.code
    return location


# Every number a store screen takes (a quantity, a line, a person) fits a 32-bit
# column; a longer one is a mistyped scan, refused before any query sees it.
SCREEN_NUMBER_LIMIT = 2**31 - 1


def whole_number(form, name: str) -> int:
    try:
        number = int(form.get(name, ""))
    except ValueError:
        raise InvalidInput({name: ["Enter a whole number."]}) from None
    if abs(number) > SCREEN_NUMBER_LIMIT:
        raise InvalidInput({name: ["That number is too long: check it and try again."]})
    return number


# Live parts of a screen (a task, the problems, the exceptions, the returns) poll
# with HTMX every few seconds rather than holding a server-sent stream open: each
# poll is one short request any proxy and any number of sync workers serve, and a
# tablet that slept simply polls again. The answer is 204 (nothing to swap, nothing
# a person types is disturbed) unless what the region shows has changed.
LIVE_SEEN = "live-seen-digest"
_CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def live(request: HttpRequest, template: str, context=None) -> HttpResponse:
    """A region rendered by ``template``, whose root includes ``_live.html``: a poll
    (a GET carrying ``X-Seen``) of a region that looks the same as the one on the
    screen answers 204."""
    response, digest = _live_rendered(request, template, context)
    if request.method == "GET" and request.headers.get("X-Seen") == digest:
        return HttpResponse(status=204)
    return response


def live_digest(request: HttpRequest, template: str, context=None) -> str:
    """The digest a poll of the region compares with: a whole page that includes the
    region passes it as ``seen``, so its first poll swaps nothing unless something
    really changed."""
    return _live_rendered(request, template, context)[1]


def live_region(request: HttpRequest, template: str, context=None) -> SafeString:
    """The region as a poll of it is answered, digest stamped, to put in a page."""
    response, _ = _live_rendered(request, template, context)
    return mark_safe(response.content.decode())  # noqa: S308 - our own template's output


def _live_rendered(request: HttpRequest, template: str, context) -> tuple:
    response = render(request, template, {**(context or {}), "seen": LIVE_SEEN})
    html = response.content.decode()
    # The CSRF token is masked afresh on every render: it is not a change.
    digest = hashlib.sha256(_CSRF_VALUE.sub("", html).encode()).hexdigest()[:20]
    response.content = html.replace(LIVE_SEEN, digest).encode()
    return response, digest
