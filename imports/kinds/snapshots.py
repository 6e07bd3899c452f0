"""Snapshot files: a channel's own view of on-hand per SKU and location, one file one
snapshot, received through reconciliation's own service (``snapshot_page_receive``)
page by page, as ``POST /api/v1/snapshots/`` receives it.

Every row gives the same ``snapshot_id`` and ``taken_at`` (and ``channel``, which a
token bound to a channel may leave empty: its own); a row is checked by the API's
rules for a snapshot row (``reconciliation.serializers``), its codes looked up a page
at a time, each SKU and location once in the file. The file's page ``n`` of ``N`` is
the snapshot's page ``n`` of ``N`` (``SNAPSHOT_PAGE_MAX_ROWS`` rows a page, as
through the API), so a page written twice (a job resumed) is received once.
"""

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from rest_framework import serializers

from catalog.models import Channel, Sku
from config.access import Scope
from config.api import CodeField
from inventory.models import Location
from inventory.serializers import source_moment
from reconciliation.models import StockSnapshot, StockSnapshotRow
from reconciliation.serializers import snapshot_row_problem
from reconciliation.services.snapshots import SnapshotFigure, snapshot_page_receive

from .base import ImportKind, RowError

HEAD = "snapshots:head"
SEEN = "snapshots:seen"


class Snapshots(ImportKind):
    name = "snapshots"
    label = "Stock snapshot"
    columns = ("snapshot_id", "taken_at", "sku", "location", "on_hand")
    optional = ("channel",)
    scope = Scope.SNAPSHOTS.value

    def page_size(self) -> int:
        return min(settings.SNAPSHOT_PAGE_MAX_ROWS, settings.IMPORT_PAGE_ROWS)

    def check(self, rows, *, job):
        clean, errors = [], []
        seen: set[tuple[str, str]] = job.scratch.setdefault(SEEN, set())
        skus = dict(
            (code, (pk, is_kit))
            for code, pk, is_kit in Sku.objects.filter(
                code__in=_texts(rows, "sku")
            ).values_list("code", "pk", "is_kit")
        )
        locations = dict(
            Location.objects.filter(code__in=_texts(rows, "location")).values_list(
                "code", "pk"
            )
        )
        for line, values in rows:
            problem = self._head_problem(line, values, job)
            if problem is not None:
                errors.append(problem)
                continue
            on_hand = values["on_hand"]
            if isinstance(on_hand, str):
                try:
                    on_hand = int(on_hand)
                except ValueError:
                    pass
            sku, location = values["sku"], values["location"]
            row = {"sku": sku, "location": location, "on_hand": on_hand}
            text = snapshot_row_problem(row)
            column = None
            if text is None:
                if sku not in skus:
                    text, column = f"Unknown SKU {sku}.", "sku"
                elif skus[sku][1]:
                    text = f"{sku} is a kit; give its components' figures."
                    column = "sku"
                elif location not in locations:
                    text, column = f"Unknown location {location}.", "location"
                elif (sku, location) in seen:
                    text = f"{sku} at {location} came already: once each per snapshot."
            else:
                text = text[0].upper() + text[1:] + "."
            if text is not None:
                errors.append(RowError(line, column, text))
                continue
            seen.add((sku, location))
            clean.append(
                SnapshotFigure(
                    sku_id=skus[sku][0],
                    location_id=locations[location],
                    on_hand=on_hand,
                )
            )
        return clean, errors

    def _head_problem(self, line: int, values: dict, job) -> RowError | None:
        """The snapshot every row names: the first row's, checked once; any other
        row naming another is wrong."""
        channel = values.get("channel") or job.channel_code
        named = (channel, values["snapshot_id"], values["taken_at"])
        if not all(isinstance(part, str) for part in named):
            return RowError(
                line, None, "channel, snapshot_id and taken_at are given as text."
            )
        head = job.scratch.get(HEAD)
        if head is None:
            head = job.scratch[HEAD] = self._head(line, named, job)
        if isinstance(head, RowError):
            return (
                head
                if head.line == line
                else RowError(
                    line, head.column, "The snapshot named on the first row is wrong."
                )
            )
        if named != head["named"]:
            return RowError(
                line,
                None,
                "Another snapshot than the first row's: every row of a file gives "
                "the same channel, snapshot_id and taken_at.",
            )
        return None

    def _head(self, line: int, named: tuple, job) -> dict | RowError:
        channel_code, snapshot_id, taken_at = named
        if not channel_code:
            return RowError(line, "channel", "Name the channel the snapshot is of.")
        if job.channel_code and channel_code != job.channel_code:
            return RowError(
                line,
                "channel",
                f"This token acts only for channel {job.channel_code}, "
                f"not {channel_code}.",
            )
        channel = Channel.objects.filter(code=channel_code).first()
        if channel is None:
            return RowError(line, "channel", f"Unknown channel {channel_code}.")
        try:
            CodeField(max_length=100).run_validation(snapshot_id)
        except serializers.ValidationError as error:
            return RowError(line, "snapshot_id", str(error.detail[0]))
        try:
            moment = source_moment(taken_at)
        except serializers.ValidationError as error:
            return RowError(line, "taken_at", str(error.detail[0]))
        # A resumed job finds the snapshot its own first pages started.
        if (
            not job.pages_written
            and StockSnapshot.objects.filter(
                channel=channel, snapshot_id=snapshot_id
            ).exists()
        ):
            return RowError(
                line,
                "snapshot_id",
                f"Snapshot {snapshot_id} of {channel_code} was received already: "
                "give this one a new snapshot_id.",
            )
        return {"named": named, "channel": channel, "taken_at": moment}

    def write(self, clean, *, job) -> int:
        head = job.scratch.get(HEAD)
        if not isinstance(head, dict):  # every row skipped: no snapshot to write
            return 0
        receipt = snapshot_page_receive(
            channel=head["channel"],
            snapshot_id=head["named"][1],
            taken_at=head["taken_at"],
            page=job.page_number,
            page_count=job.pages_total,
            figures=clean,
            actor=job.actor,
        )
        return 0 if receipt.duplicate else len(clean)

    def export(self) -> Iterator[dict[str, Any]]:
        return self.export_rows()

    def export_rows(
        self, *, channel_code: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Each channel's latest complete snapshot (a bound token: its own channel's)."""
        snapshots = StockSnapshot.objects.exclude(
            status=StockSnapshot.Status.RECEIVING
        ).select_related("channel")
        if channel_code is not None:
            snapshots = snapshots.filter(channel__code=channel_code)
        latest: dict[int, StockSnapshot] = {}
        for snapshot in snapshots.order_by("-taken_at", "-id"):
            latest.setdefault(snapshot.channel_id, snapshot)
        for snapshot in sorted(latest.values(), key=lambda found: found.channel.code):
            rows = (
                StockSnapshotRow.objects.filter(snapshot=snapshot)
                .order_by("sku__code", "location__code")
                .values_list("sku__code", "location__code", "on_hand")
            )
            for sku, location, on_hand in rows.iterator(chunk_size=5000):
                yield {
                    "snapshot_id": snapshot.snapshot_id,
                    "taken_at": snapshot.taken_at,
                    "sku": sku,
                    "location": location,
                    "on_hand": on_hand,
                    "channel": snapshot.channel.code,
                }


def _texts(rows, column: str) -> set[str]:
    return {values[column] for _, values in rows if isinstance(values[column], str)}
