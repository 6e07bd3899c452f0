"""Sending a till's stock snapshot, as the tills' integration does."""

from django.utils import timezone

SNAPSHOTS = "/api/v1/snapshots/"


def page(rows, *, snapshot_id="EOD-1", taken_at=None, number=1, of=1):
    return {
        "snapshot_id": snapshot_id,
        "taken_at": (taken_at or timezone.now()).isoformat(),
        "page": number,
        "page_count": of,
        "rows": [
            {"sku": sku, "location": location, "on_hand": on_hand}
            for sku, location, on_hand in rows
        ],
    }


def send(till, body):
    return till["api"].post(SNAPSHOTS, body, format="json")
