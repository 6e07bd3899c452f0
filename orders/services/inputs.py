"""What callers hand the order services (the customer, where it goes, the lines and
how many of their units) and the refusals particular to orders, each a 409 with the
``code`` the API has always answered with."""

from dataclasses import dataclass

from catalog.models import Sku
from config.errors import Conflict
from config.transitions import TransitionRefused
from inventory.models import Location

MAX_LINES = 200


class OrderReferenceClash(Conflict):
    code = "reference_clash"
    message = "This reference was already used for a different order."


class RequestReferenceClash(Conflict):
    code = "request_reference_clash"
    message = "This request reference was already used for a different request."


class OrderTransitionRefused(TransitionRefused):
    code = "order_transition_refused"


class ReservationAlreadyOrdered(Conflict):
    code = "reservation_already_ordered"


class KitSplitRefused(Conflict):
    """A change that would leave part of a kit: kits go whole unless the channel
    allows splitting them."""

    code = "kit_split_refused"


@dataclass(frozen=True)
class Customer:
    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Delivery:
    address: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


@dataclass(frozen=True)
class OrderLineInput:
    sku: Sku
    quantity: int
    location: Location | None = None
    # What the shelf cannot cover may be promised against dated supply (a pre-order
    # or back-order); None: the channel's default.
    allow_future: bool | None = None


@dataclass(frozen=True)
class LineQuantity:
    """A line of the order, and how many of its units (None: every unit that can)."""

    line_id: int
    quantity: int | None = None


@dataclass(frozen=True)
class KitQuantity:
    """Kits of a kit line of the order (None: every kit that can): ``per_kit`` units
    of each of its component lines per kit."""

    kit_line_id: int
    quantity: int | None = None
