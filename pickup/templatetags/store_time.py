"""``{{ moment|at:"D j M H:i" }}``: Django's ``date`` filter in the store's zone, for
any moment stored. ``|date`` converts to the zone before it formats, and a moment
near year 1 or 9999 cannot be converted (``OverflowError``: the screen would be a
500); such a moment is shown where it is, with its zone's name."""

from datetime import datetime

from django import template
from django.template.defaultfilters import date

from config.moments import in_store_time

register = template.Library()


@register.filter(expects_localtime=False, is_safe=False)
def at(value, arg=None):
    if not isinstance(value, datetime):
        return date(value, arg)  # a day, or nothing: nothing to convert
    moment, in_zone = in_store_time(value)
    shown = date(moment, arg)
    if in_zone or not shown:
        return shown
    return f"{shown} {moment.tzname() or 'UTC'}"
