"""Receiving a channel's stock snapshot, page by page.

A POS or web shop sends its own view of on-hand per SKU and location, in pages of up
to ``SNAPSHOT_PAGE_MAX_ROWS`` rows, under an id of its own. Pages may come in any
order and any number of times: a page already received with the same rows changes
nothing (``duplicate``); different rows under the same page number, or a SKU and
location already in another page, are refused and change nothing. When the last
page arrives the snapshot is complete and waits for the nightly run to compare it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Channel
from config.access import Actor
from config.errors import Conflict

from ..models import StockSnapshot, StockSnapshotPage, StockSnapshotRow

Status = StockSnapshot.Status


class SnapshotClash(Conflict):
    code = "snapshot_clash"


@dataclass(frozen=True)
class SnapshotFigure:
    """One row of a page, its codes already looked up."""

    sku_id: int
    location_id: int
    on_hand: int


@dataclass(frozen=True)
class PageReceipt:
    snapshot: StockSnapshot
    duplicate: bool


def page_digest(*, figures: list[SnapshotFigure]) -> str:
    """Order-blind: the same rows in another order are the same page."""
    rows = sorted((f.sku_id, f.location_id, f.on_hand) for f in figures)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


@transaction.atomic
def snapshot_page_receive(
    *,
    channel: Channel,
    snapshot_id: str,
    taken_at: datetime,
    page: int,
    page_count: int,
    figures: list[SnapshotFigure],
    actor: Actor,
) -> PageReceipt:
    now = timezone.now()
    snapshot = _snapshot(channel, snapshot_id, taken_at, page_count, actor, now)
    digest = page_digest(figures=figures)
    earlier = snapshot.pages.filter(number=page).first()
    if earlier is not None:
        if earlier.digest != digest:
            raise SnapshotClash(
                f"Page {page} of snapshot {snapshot_id!r} was received with other "
                "rows; a snapshot's pages cannot change. Send a new snapshot id."
            )
        return PageReceipt(snapshot=snapshot, duplicate=True)
    try:
        with transaction.atomic():
            StockSnapshotRow.objects.bulk_create(
                StockSnapshotRow(
                    snapshot=snapshot,
                    sku_id=f.sku_id,
                    location_id=f.location_id,
                    on_hand=f.on_hand,
                )
                for f in figures
            )
    except IntegrityError:
        raise SnapshotClash(
            f"A SKU and location on page {page} is already on another page of "
            f"snapshot {snapshot_id!r}; each may appear once."
        ) from None
    StockSnapshotPage.objects.create(
        snapshot=snapshot,
        number=page,
        row_count=len(figures),
        digest=digest,
        received_at=now,
    )
    StockSnapshot.objects.filter(pk=snapshot.pk).update(
        pages_received=F("pages_received") + 1,
        rows_received=F("rows_received") + len(figures),
    )
    snapshot.refresh_from_db()
    if snapshot.pages_received == snapshot.page_count:
        snapshot.status, snapshot.completed_at = Status.COMPLETE, now
        snapshot.save(update_fields=["status", "completed_at"])
    return PageReceipt(snapshot=snapshot, duplicate=False)


def _snapshot(
    channel, snapshot_id, taken_at, page_count, actor: Actor, now
) -> StockSnapshot:
    """The snapshot, locked (so two pages at once count both), created by the first
    page to arrive; every page must agree on its moment and its number of pages."""
    try:
        with transaction.atomic():
            StockSnapshot.objects.get_or_create(
                channel=channel,
                snapshot_id=snapshot_id,
                defaults={
                    "taken_at": taken_at,
                    "page_count": page_count,
                    "received_by": actor.name,
                    "created_at": now,
                },
            )
    except IntegrityError:
        pass  # another page created it first
    snapshot = StockSnapshot.objects.select_for_update(no_key=True).get(
        channel=channel, snapshot_id=snapshot_id
    )
    if snapshot.taken_at != taken_at or snapshot.page_count != page_count:
        raise SnapshotClash(
            f"Snapshot {snapshot_id!r} was started as taken at "
            f"{snapshot.taken_at.isoformat()} in {snapshot.page_count} page(s); "
            "every page must say the same."
        )
    return snapshot
