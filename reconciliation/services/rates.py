"""The nightly rate of sale per SKU and location (``SalesRate``), for the dashboard's
days of supply: one grouped statement over the ledger's sales of the trailing
``SALES_RATE_DAYS``, replacing last night's figures in one transaction."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory.models import StockMovement
from inventory.movements import SOLD, SOLD_STATUSES

from ..models import SalesRate


@transaction.atomic
def sales_rates_refresh(*, now: datetime | None = None) -> int:
    """Returns how many SKU-locations sold in the window."""
    now = now or timezone.now()
    days = max(1, settings.SALES_RATE_DAYS)
    adapt = connection.ops.adapt_datetimefield_value
    kinds = ", ".join(["%s"] * len(SOLD))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Two refreshes at once (beat and a person) would insert the same rows;
            # the second waits. The dashboard goes on reading.
            cursor.execute(f"LOCK TABLE {SalesRate._meta.db_table} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {SalesRate._meta.db_table}")
        cursor.execute(
            f"""
            INSERT INTO {SalesRate._meta.db_table}
                (sku_id, location_id, units, days, computed_at)
            SELECT sku_id, location_id, SUM(quantity), %s, %s
            FROM {StockMovement._meta.db_table}
            WHERE type IN ({kinds}) AND status IN (%s, %s)
              AND occurred_at >= %s AND occurred_at < %s
            GROUP BY sku_id, location_id
            HAVING SUM(quantity) > 0
            """,
            [
                days,
                adapt(now),
                *SOLD,
                *SOLD_STATUSES,
                adapt(now - timedelta(days=days)),
                adapt(now),
            ],
        )
        return cursor.rowcount
