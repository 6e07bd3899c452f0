"""Returns as a store worker says them: a return's state ("Waiting for
inspection", not ``received``), a grade in a timeline, and when an inspection is
due (to read as "2 days late" with ``|late_by``). Only the screens translate:
records and the API keep their codes."""

from datetime import timedelta

from django import template
from django.conf import settings

register = template.Library()

STATES = {
    "expected": "On its way",
    "received": "Waiting for inspection",
    "inspecting": "Being inspected",
    "graded": "Graded, to close",
    "closed": "Closed",
    "cancelled": "Never arrived",
}

GRADES = {
    "resellable": "resellable, back on the shelf",
    "damaged": "damaged, kept and not for sale",
    "return_to_vendor": "to go back to the vendor",
    "destroy": "to be destroyed",
}


@register.filter
def state(code) -> str:
    return STATES.get(str(code), str(code).replace("_", " ").capitalize())


@register.filter
def grade_words(code) -> str:
    return GRADES.get(str(code), str(code).replace("_", " "))


@register.filter(expects_localtime=False)
def inspection_due(received_at):
    """When a return received at ``received_at`` should be graded by."""
    if received_at is None:
        return None
    return received_at + timedelta(hours=settings.RETURNS_INSPECTION_TARGET_HOURS)
