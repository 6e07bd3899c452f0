"""Inventory's records, by job; every model is imported here, so Django finds them
and ``from inventory.models import X`` reads as it always did.

- ``locations``: Location, StaffMembership.
- ``stock``: the ledger (StockMovement, MovementType), its balances (StockBalance),
  conflicts (StockConflict) and the availability outbox (AvailabilityChange).
- ``holds``: Reservation, ReservationLine, the kits a hold took (ReservationKit) and
  their timeline (ReservationTransition).
- ``transfers``: TransferRequest and its timeline (TransferEvent).
- ``sources``: how sources keep in touch (EventTally, SourceHealth).
- ``channels``: what a channel sells from and keeps for itself (NetworkLocation,
  Allocation, VelocityBuffer).
- ``supply``: future supply (Supply, its timeline SupplyEvent), what is promised
  against it (SupplyPromise) and the lead time between two locations (TransferRoute).
- ``demand``: demand turned away for lack of stock (RefusedDemand), the sales lost.
"""

from .channels import Allocation, NetworkLocation, VelocityBuffer
from .demand import RefusedDemand
from .holds import (
    Reservation,
    ReservationKit,
    ReservationLine,
    ReservationTransition,
)
from .locations import Location, StaffMembership
from .sources import EventTally, SourceHealth
from .stock import (
    AvailabilityChange,
    MovementType,
    StockBalance,
    StockConflict,
    StockMovement,
)
from .supply import (
    Supply,
    SupplyEvent,
    SupplyPromise,
    TransferRoute,
    promised_units,
)
from .transfers import TransferEvent, TransferRequest

__all__ = [
    "Allocation",
    "NetworkLocation",
    "VelocityBuffer",
    "AvailabilityChange",
    "EventTally",
    "Location",
    "MovementType",
    "Reservation",
    "ReservationKit",
    "RefusedDemand",
    "ReservationLine",
    "ReservationTransition",
    "SourceHealth",
    "StaffMembership",
    "StockBalance",
    "StockConflict",
    "StockMovement",
    "Supply",
    "SupplyEvent",
    "SupplyPromise",
    "TransferRoute",
    "promised_units",
    "TransferEvent",
    "TransferRequest",
]
