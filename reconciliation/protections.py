"""The managers' dashboard's "Protections short of stock" (reads only): each allocation
whose protection in force (its units less its channel's own active holds there)
exceeds what is available at its SKU and location, the most units short first. When
stock falls below a protection the shared pool goes first, so by then every other
channel already sees nothing there, and the protected channel cannot have all it was
promised. The figures are ``inventory.allocations``'s, the API's own; allocations
are few, so the table costs a few statements whatever the number of balances."""

from inventory.allocations import protections_short
from inventory.models import Location

from .dashboard import LOCATION_COLUMNS, LOCATION_NAME, Table


def protections_short_table(*, locations: list[Location], limit: int | None) -> Table:
    """The protections short of stock at ``locations``: ``limit`` rows (the screen)
    or all (the CSV); ``total`` counts every one."""
    rows, total = protections_short(locations=locations, limit=limit)
    table = Table(
        "protections_short",
        "Protections short of stock",
        [
            ("channel", "Channel"),
            ("sku", "SKU"),
            *LOCATION_COLUMNS,
            ("protected", "Protected"),
            ("available", "Available"),
            ("short", "Short by"),
        ],
        total=total,
    )
    for row in rows:
        allocation = row.allocation
        table.rows.append(
            {
                "channel": allocation.channel.name,
                "sku": allocation.sku.code,
                "location": allocation.location.code,
                LOCATION_NAME: allocation.location.name,
                "protected": row.in_force,
                "available": row.available,
                "short": row.shortfall,
            }
        )
    return table
