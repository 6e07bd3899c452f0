"""The reconciliation runs screen, under /store/reconciliation/ (managers): every
run with what it checked and found, a button to start one now, and a run's page that
follows its progress every second until it finishes, then lists the rows it found.
Thin: starting calls one service and hands the run to a worker."""

import logging

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from catalog.selectors import channels_by_code
from config import access
from config.access import Actor
from config.broker import job_queue
from config.screens import render, staff_screen
from inventory.selectors import locations_by_code

from .models import ReconciliationRun, ReconciliationRunEvent, StockSnapshot
from .services.runs import (
    RunInProgress,
    reconciliation_run_start,
    reconciliation_run_stop,
)
from .tasks import perform_run

RUNS_SHOWN = 20
log = logging.getLogger(__name__)
SNAPSHOTS_SHOWN = 20


def _managers_only(request: HttpRequest) -> None:
    # Runs name every location's figures: a store's staff see their own cases instead.
    if not access.sees_every_location(request.user):
        raise Http404("Reconciliation runs are for managers.")


@require_GET
@staff_screen
def runs(request: HttpRequest) -> HttpResponse:
    _managers_only(request)
    return render(
        request,
        "reconciliation/runs.html",
        {
            "runs": ReconciliationRun.objects.all()[:RUNS_SHOWN],
            "snapshots": StockSnapshot.objects.select_related("channel")[
                :SNAPSHOTS_SHOWN
            ],
        },
    )


@require_POST
@staff_screen
def run_start(request: HttpRequest) -> HttpResponse:
    _managers_only(request)
    try:
        run = reconciliation_run_start(
            trigger=ReconciliationRun.Trigger.MANAGER,
            actor=Actor.of_user(request.user),
        )
    except RunInProgress as refused:
        messages.error(request, refused.message)
        return redirect("reconciliation:runs")
    transaction.on_commit(lambda: _hand_to_a_worker(run.pk, request.user))
    return redirect("reconciliation:run", run_id=run.pk)


def _hand_to_a_worker(run_id: int, user) -> None:
    queued = job_queue(
        perform_run,
        what=f"reconciliation run {run_id}",
        args=[run_id],
        queue=settings.RECONCILIATION_QUEUE,
    )
    if not queued:  # the broker is down: say so on the run, not a 500 or a wait
        reconciliation_run_stop(
            run_id=run_id,
            reason="No worker could be reached (the broker is down); start again "
            "when the workers are back.",
            actor=Actor.of_user(user),
        )


@require_GET
@staff_screen
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    _managers_only(request)
    run = get_object_or_404(ReconciliationRun, pk=run_id)
    template = (
        "reconciliation/_run_progress.html"
        if request.htmx
        else "reconciliation/run.html"
    )
    stale_minutes = settings.RECONCILIATION_STALE_SECONDS // 60
    drift = _drift_rows(run)
    disagreements = [dict(row) for row in (run.report or {}).get("disagreements", [])]
    _named([*drift, *disagreements])  # both tables' names, read once
    return render(
        request,
        template,
        {
            "run": run,
            "stale_minutes": stale_minutes,
            "drift": drift,
            "disagreements": disagreements,
            "history": [
                {**entry, "words": _EVENT_WORDS.get(entry["event"], entry["event"])}
                for entry in run.history
            ],
        },
    )


# What the run's timeline and its drift table say, in words.
_EVENT_WORDS = dict(ReconciliationRunEvent.Kind.choices)
_FIGURE_WORDS = {
    "on_hand": "On hand",
    "committed": "Promised to orders",
    "picked": "Picked, waiting for pickup",
    "reserved": "Held in checkouts",
    "damaged": "Damaged",
    "quality_control": "Returns being inspected",
    "in_transit": "In transit",
    "incoming": "Incoming",
}


def _named(rows: list[dict]) -> None:
    """The report keeps codes (what the run was against); the page says the
    channel's and the location's names beside them, as every other screen does:
    set on each row."""
    channels = channels_by_code(
        codes={row["channel"] for row in rows if row.get("channel")}
    )
    places = locations_by_code(
        codes={row["location"] for row in rows if row.get("location")}
    )
    for row in rows:
        channel, place = (
            channels.get(row.get("channel")),
            places.get(row.get("location")),
        )
        row["channel_name"] = channel.name if channel else ""
        row["location_name"] = place.name if place else ""


def _drift_rows(run: ReconciliationRun) -> list[dict]:
    return [
        {
            "sku": row.get("sku"),
            "location": row.get("location"),
            "figure": _FIGURE_WORDS.get(field, field.replace("_", " ").capitalize()),
            "stored": sides.get("stored"),
            "ledger": sides.get("ledger"),
        }
        for row in (run.report or {}).get("drift", [])
        for field, sides in row.get("fields", {}).items()
    ]
