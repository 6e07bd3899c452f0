"""Stock files: opening stock (``OpeningStock``: sku, location, quantity) and counts
(``Counts``: sku, location, counted, and when it was counted if not when the file
was sent), checked here a page at a time in a few queries and written by
``inventory.services.bulk_stock`` (inventory.services is the only code that changes
stock; counts go through the ledger's own batch from there).

Each row becomes one ledger entry under the reference ``import:<the file's digest,
16 hex>:<line>``, from the channel the sending token acts for (else the back office's
own, as counts posted there are), recorded as the job's sender: a page written again
writes nothing, and the ledger says which file every number came from. The
entries' moment (opening stock; counts without ``counted_at``) and reason (counts)
are those of the first job of the same file that wrote anything (``_first_sent``):
a file sent again after a failed job gives the entries its first job wrote the
same fingerprint, so the ledger knows them for the same events, not a clash.

A file names each SKU at a location at most once (a second row of the pair is wrong:
which one holds?). Opening stock goes only where the SKU has no stock history at that
location: anywhere else it would fight the sales already made, so the row is wrong
and a count says the same thing right. A row whose stock moved between the check and
the write is left out at the write and reported (``scratch["write_errors"]``).
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Subquery
from rest_framework.exceptions import ValidationError

from catalog.models import Channel, Sku
from config.access import Scope
from inventory.models import Location, MovementType, StockBalance, StockMovement
from inventory.movements import MAX_MOVEMENT_QUANTITY
from inventory.serializers import source_moment
from inventory.services import staff_channel
from inventory.services.bulk_stock import (
    ALREADY_STOCKED,
    BulkWritten,
    CountRow,
    OpeningStockRow,
    counts_write,
    opening_stock_write,
    stock_history_at,
)

from ..models import ImportJob
from .base import ImportKind, RowError

Row = tuple[int, dict[str, Any]]
EXPORT_CHUNK = 5000


class _StockKind(ImportKind):
    """What both stock kinds share: reading a page's codes, its whole numbers, the
    pairs seen earlier in the file, and the entries' source and references."""

    scope = Scope.POST_STOCK_EVENTS.value
    #: The column holding the units.
    units: str

    def _read(
        self, rows: list[Row], *, job: Any
    ) -> tuple[list[OpeningStockRow], list[dict[str, Any]], list[RowError]]:
        """Each right row as the SKU, location and units it names (with its values,
        for what else it says), and each wrong row's errors: codes known (one query
        for the page's SKUs, one for its locations), units a whole number from 0 to
        the ledger's largest, each pair once in the file. Written for a million
        rows: the common row costs a few look-ups and one tuple."""
        # Column by column first (comprehensions), then one pass over the rows in
        # which a right row costs two look-ups, a test and a tuple.
        values_of = [values for _, values in rows]
        sku_codes = [values.get("sku") for values in values_of]
        location_codes = [values.get("location") for values in values_of]
        units_column = self.units
        skus = {
            code: (pk, is_kit)
            for code, pk, is_kit in Sku.objects.filter(
                code__in={_text(code) for code in set(sku_codes)}
            ).values_list("code", "pk", "is_kit")
        }
        locations = dict(
            Location.objects.filter(
                code__in={_text(code) for code in set(location_codes)}
            ).values_list("code", "pk")
        )
        # The pairs of the file so far, as one integer each: a million rows' worth
        # stays a few tens of megabytes.
        seen: set[int] = job.scratch.setdefault("stock_pairs", set())
        read: list[OpeningStockRow] = []
        kept: list[dict[str, Any]] = []
        errors: list[RowError] = []
        sku_of, location_of, remember = skus.get, locations.get, seen.add
        for (line, values), sku_code, location_code in zip(
            rows, sku_codes, location_codes, strict=True
        ):
            units = values.get(units_column)
            sku = sku_of(sku_code)
            location = location_of(location_code)
            if (
                sku is not None
                and location is not None
                and not sku[1]
                and units.__class__ is str
                and units.isdecimal()
                and len(units) < 9
                and (units := int(units)) <= MAX_MOVEMENT_QUANTITY
            ):
                pass
            else:
                # Off the common path: spaces around a code, a JSON number, or
                # something wrong.
                sku_code, location_code = _text(sku_code), _text(location_code)
                sku, location = sku_of(sku_code), location_of(location_code)
                units = self._wrong(
                    line, sku_code, sku, location_code, location, units, errors
                )
                if units is None:
                    continue
            pair = (sku[0] << 32) | location
            if pair in seen:
                errors.append(
                    RowError(
                        line,
                        None,
                        f"{sku_code} at {location_code} is already in the file: one "
                        "row per SKU and location.",
                    )
                )
                continue
            remember(pair)
            read.append(
                OpeningStockRow(line, sku[0], location, units, sku_code, location_code)
            )
            kept.append(values)
        return read, kept, errors

    def _wrong(self, line, sku_code, sku, location_code, location, units, errors):
        """The errors of a row off the common path; its units when it has none."""
        wrong = len(errors)
        if not sku_code:
            errors.append(RowError(line, "sku", "A SKU code is required."))
        elif sku is None:
            errors.append(RowError(line, "sku", f"Unknown SKU {sku_code!r}."))
        elif sku[1]:
            errors.append(
                RowError(
                    line,
                    "sku",
                    f"{sku_code} is a kit: it holds no stock of its own. Give its "
                    "components' stock.",
                )
            )
        if not location_code:
            errors.append(RowError(line, "location", "A location code is required."))
        elif location is None:
            errors.append(
                RowError(line, "location", f"Unknown location {location_code!r}.")
            )
        number, problem = _whole_number(units)
        if problem:
            errors.append(RowError(line, self.units, problem))
        return None if len(errors) > wrong else number

    def _channel(self, job: Any) -> Channel:
        """The sending token's channel, else the back office's own."""
        code = getattr(job, "channel_code", "")
        channel = Channel.objects.filter(code=code).first() if code else None
        return channel or staff_channel()

    def _report(self, written: BulkWritten, job: Any) -> int:
        if written.refused:
            job.scratch.setdefault("write_errors", []).extend(
                RowError(line, None, message)
                for line, message in sorted(written.refused.items())
            )
        return written.written


class OpeningStock(_StockKind):
    name = "opening_stock"
    label = "Opening stock"
    columns = ("sku", "location", "quantity")
    units = "quantity"

    def check(self, rows: list[Row], *, job: Any) -> tuple[list[Any], list[RowError]]:
        read, _, errors = self._read(rows, job=job)
        # A row whose own entry is in the ledger (the same file written before, by
        # a job that failed after that page) is clean: its write finds the entry and
        # writes nothing.
        prefix = _reference_prefix(job)
        moved = stock_history_at(
            references={
                (row.sku_id, row.location_id): f"{prefix}{row.line}" for row in read
            },
            channel=self._channel(job),
        )
        if not moved:
            return read, errors
        clean = []
        for row in read:
            if (row.sku_id, row.location_id) in moved:
                errors.append(
                    RowError(
                        row.line,
                        None,
                        ALREADY_STOCKED.format(
                            sku=row.sku_code, location=row.location_code
                        ),
                    )
                )
            else:
                clean.append(row)
        errors.sort(key=lambda error: error.line)
        return clean, errors

    def write(self, clean: list[Any], *, job: Any) -> int:
        written = opening_stock_write(
            rows=clean,
            reference_prefix=_reference_prefix(job),
            channel=self._channel(job),
            occurred_at=_first_sent(job)[0],
            actor=job.actor,
        )
        return self._report(written, job)

    def export(self) -> Iterator[dict[str, Any]]:
        """On-hand of every SKU at every location it has a balance at."""
        rows = (
            StockBalance.objects.order_by("sku__code", "location__code")
            .values_list("sku__code", "location__code", "on_hand")
            .iterator(chunk_size=EXPORT_CHUNK)
        )
        for sku, location, on_hand in rows:
            yield {"sku": sku, "location": location, "quantity": on_hand}


class Counts(_StockKind):
    name = "counts"
    label = "Counts"
    columns = ("sku", "location", "counted")
    optional = ("counted_at",)
    units = "counted"
    #: A page is one call of the ledger's batch (a count costs it what a posted one
    #: does): a thousand rows commit in a second or so, and the balances they lock
    #: are never held longer than that from the tills.
    page_rows = 1_000

    def check(self, rows: list[Row], *, job: Any) -> tuple[list[Any], list[RowError]]:
        read, kept, errors = self._read(rows, job=job)
        sent_at = _first_sent(job)[0]
        clean = []
        for row, values in zip(read, kept, strict=True):
            counted_at, problem = _moment(values.get("counted_at"), sent_at)
            if problem:
                errors.append(RowError(row.line, "counted_at", problem))
                continue
            clean.append(
                CountRow(
                    row.line,
                    row.sku_id,
                    row.location_id,
                    row.quantity,
                    counted_at,
                    row.sku_code,
                    row.location_code,
                )
            )
        errors.sort(key=lambda error: error.line)
        return clean, errors

    def write(self, clean: list[Any], *, job: Any) -> int:
        written = counts_write(
            rows=clean,
            reference_prefix=_reference_prefix(job),
            channel=self._channel(job),
            actor=job.actor,
            reason=f"Count imported from {_first_sent(job)[1]}",
        )
        return self._report(written, job)

    def export(self) -> Iterator[dict[str, Any]]:
        """The latest applied count of every SKU at every location counted."""
        latest = StockMovement.objects.filter(
            sku_id=OuterRef("sku_id"),
            location_id=OuterRef("location_id"),
            type=MovementType.COUNT,
            status=StockMovement.Status.APPLIED,
            occurred_at=OuterRef("last_count_at"),
        ).order_by("-id")
        rows = (
            StockBalance.objects.filter(last_count_at__isnull=False)
            .annotate(counted=Subquery(latest.values("quantity")[:1]))
            .order_by("sku__code", "location__code")
            .values_list("sku__code", "location__code", "counted", "last_count_at")
            .iterator(chunk_size=EXPORT_CHUNK)
        )
        for sku, location, counted, counted_at in rows:
            yield {
                "sku": sku,
                "location": location,
                "counted": counted,
                "counted_at": counted_at.isoformat(),
            }


def _reference_prefix(job: Any) -> str:
    return f"import:{job.digest[:16]}:"


def _first_sent(job: Any) -> tuple[datetime, str]:
    """When, and under what name, the file was sent by the first job of it (this
    kind, this channel) that wrote a page, else by this job: what its entries say
    (their moment and reason), whichever job writes them. Read once a run."""
    first = job.scratch.get("first_sent")
    if first is None:
        first = (
            ImportJob.objects.filter(
                kind=job.kind,
                channel_code=job.channel_code,
                digest=job.digest,
                pages_written__gt=0,
                created_at__lt=job.created_at,
            )
            .order_by("created_at", "id")
            .values_list("created_at", "file_name")
            .first()
        ) or (job.created_at, job.file_name)
        job.scratch["first_sent"] = first
    return first


def _text(value: Any) -> str:
    return value.strip() if value.__class__ is str else ""


def _whole_number(value: Any) -> tuple[int, str]:
    """A count of units from a CSV cell (text) or a JSON value (a number): a whole
    number from 0 to the ledger's largest movement."""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdecimal():
        number = int(value.strip())
    elif isinstance(value, str) and value.strip().startswith("-"):
        return 0, "Units are 0 or more."
    else:
        number = None
    if number is None:
        if value is None or value == "":
            return 0, "Required: a whole number of units."
        return 0, f"{value!r} is not a whole number of units."
    if number < 0:
        return 0, "Units are 0 or more."
    if number > MAX_MOVEMENT_QUANTITY:
        return 0, f"At most {MAX_MOVEMENT_QUANTITY:,} units."
    return number, ""


def _moment(value: Any, default: datetime) -> tuple[datetime, str]:
    """When it was counted: ISO 8601 with an offset, not in the future (beyond the
    clock skew allowed); none given, when the file was sent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default, ""
    if not isinstance(value, str):
        return default, "A moment as ISO 8601 text, e.g. 2026-03-01T18:00:00+01:00."
    try:
        return source_moment(value.strip()), ""
    except ValidationError as error:
        detail = error.detail[0] if isinstance(error.detail, list) else error.detail
        return default, str(detail)


__all__ = ["Counts", "OpeningStock"]
