"""The velocity buffers screen, under /store/buffers/ (managers): each channel and its
buffer policy; for a channel under the ``velocity`` policy, what a recompute would
change (units kept back from online before and after, the SKUs that would newly show
zero online, the SKU-locations whose buffer moves, worst first) and a button that
applies it. Thin: the figures are ``inventory.services.buffers``'s."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from catalog.selectors import channel_get, skus_by_code
from config import access
from config.access import Actor
from config.screens import readable, render, staff_screen
from inventory.buffers import channels_buffers
from inventory.selectors import locations_by_code
from inventory.services.buffers import (
    NotUnderVelocity,
    buffers_preview,
    buffers_recompute,
)
from inventory.velocity import TIERS, TOP_TIER

# The changes listed on the page, worst first; the figures count every one.
CHANGES_SHOWN = 50
NEWLY_ZERO_SHOWN = 20


def _managers_only(request: HttpRequest) -> None:
    # A channel's buffers hold back stock at every location of its network.
    if not access.sees_every_location(request.user):
        raise Http404("Velocity buffers are for managers.")


def _channel(code: str):
    channel = channel_get(code=code)
    if channel is None or not channel.is_active:
        raise Http404("No such channel.")
    return channel


def _tiers() -> list[dict]:
    """The tiers in words: under 0.5 a day keeps 0 back, and so on."""
    rows, low = [], 0.0
    for below, units in TIERS:
        rows.append({"low": low, "below": below, "units": units})
        low = below
    rows.append({"low": low, "below": None, "units": TOP_TIER})
    return rows


@require_GET
@staff_screen
def buffers(request: HttpRequest) -> HttpResponse:
    _managers_only(request)
    return render(
        request,
        "reconciliation/buffers.html",
        {
            "channels": channels_buffers(),
            "tiers": _tiers(),
            "rate_days": settings.SALES_RATE_DAYS,
        },
    )


@require_GET
@staff_screen
def buffer_channel(request: HttpRequest, code: str) -> HttpResponse:
    _managers_only(request)
    channel = _channel(code)
    try:
        preview = buffers_preview(channel=channel)
    except NotUnderVelocity as refused:
        return render(
            request,
            "reconciliation/buffer_channel.html",
            {"channel": channel, "refused": readable(refused)},
        )
    shown = preview.changes[:CHANGES_SHOWN]
    skus = skus_by_code(codes={change.sku for change in shown})
    places = locations_by_code(codes={change.location for change in shown})
    return render(
        request,
        "reconciliation/buffer_channel.html",
        {
            "channel": channel,
            "preview": preview,
            "changes": [
                {
                    "change": change,
                    "sku_name": getattr(skus.get(change.sku), "name", ""),
                    "location_name": getattr(places.get(change.location), "name", ""),
                }
                for change in shown
            ],
            "more_changes": len(preview.changes) - len(shown),
            "newly_zero": preview.newly_zero[:NEWLY_ZERO_SHOWN],
            "more_newly_zero": len(preview.newly_zero) - NEWLY_ZERO_SHOWN,
            "raised": sum(1 for c in preview.changes if c.after > c.before),
            "lowered": sum(1 for c in preview.changes if c.after < c.before),
        },
    )


@require_POST
@staff_screen
def buffer_recompute(request: HttpRequest, code: str) -> HttpResponse:
    _managers_only(request)
    channel = _channel(code)
    try:
        result = buffers_recompute(channel=channel, actor=Actor.of_user(request.user))
    except NotUnderVelocity as refused:
        messages.error(request, readable(refused))
        return redirect("reconciliation:buffer-channel", code=channel.code)
    changed = len(result.changes)
    messages.success(
        request,
        f"Recomputed {channel.name}'s buffers at {result.written} SKU-location"
        f"{'' if result.written == 1 else 's'}: "
        + (
            f"{changed} changed ({result.raised} raised, {result.lowered} lowered), "
            "and the channels are told the new figures."
            if changed
            else "none changed."
        ),
    )
    return redirect("reconciliation:buffer-channel", code=channel.code)
