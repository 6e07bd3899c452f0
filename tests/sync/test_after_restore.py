"""A point-in-time restore (docs/deployment.md, backups): the database is back as it
was at 09:00, but a marketplace had read the feed, and a web shop had been pushed
changes, up to 09:20. ``manage.py after_restore`` makes sure neither skips nor drops
what comes next."""

import pytest
from django.core.management import call_command

from inventory.models import AvailabilityChange, StockBalance
from sync.selectors import feed_bounds
from sync.services import changes_place
from tests.factories import ApiTokenFactory, StockEvents

pytestmark = pytest.mark.django_db(transaction=True)


def test_after_a_restore_old_cursors_start_again_and_every_balance_is_announced(
    floor,
):
    for sku in (floor["tee"], floor["hoodie"]):
        StockEvents.post("receipt", sku=sku, location=floor["store"], quantity=4)
    changes_place()
    before = feed_bounds().last_position
    highest = {
        (b.sku_id, b.location_id): b.sequence for b in StockBalance.objects.all()
    }
    # What the marketplace had read before the restore: positions beyond the
    # restored feed's, which it would otherwise reuse for different changes.
    old_cursor = before + 3

    call_command("after_restore", "--positions", "1000", "--sequences", "100")

    bounds = feed_bounds()
    assert bounds.pruned_through == before + 1000
    # Then the two balances, announced again, placed after the jump.
    assert bounds.last_position == before + 1002
    _, raw = ApiTokenFactory.issue(name="marketplace", channel_code="web")
    from rest_framework.test import APIClient

    marketplace = APIClient()
    marketplace.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    answer = marketplace.get(f"/api/v1/availability/changes/?cursor={old_cursor}")
    assert answer.status_code == 410, answer.json()
    assert int(answer.json()["latest_cursor"]) == before + 1002
    # Every balance announced again, current, above any sequence sent before.
    announced = marketplace.get(f"/api/v1/availability/changes/?cursor={before + 1000}")
    assert announced.status_code == 200, announced.json()
    assert len(announced.json()["changes"]) == 2
    for balance in StockBalance.objects.all():
        key = (balance.sku_id, balance.location_id)
        assert balance.sequence == highest[key] + 100
        assert balance.on_hand == 4  # the quantities are not touched
    again = AvailabilityChange.objects.filter(position__gt=before + 1000)
    assert again.count() == len(highest)
    assert {c.sequence for c in again} == {s + 100 for s in highest.values()}
