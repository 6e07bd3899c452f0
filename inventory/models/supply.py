"""Future supply: units on their way to a location, due on a date (Supply: a purchase
order's expected receipt, or a transfer on the road), the units promised against it
before it lands (SupplyPromise: a pre-order's or back-order's units), its timeline (SupplyEvent:
rescheduled, received, called off), and the
default lead time between two locations (TransferRoute) that dates a transfer sent
without one.

Written only by ``inventory.services`` (``supply``, ``supply_promises``,
``supply_calls``), from the ledger's own entries
(``receipt_expected``, ``transfer_out``, ``receipt``, ``transfer_in``) and the
supply calls (reschedule, call-off). Read by the timeline of availability by date
(``inventory.timeline_selectors``) and the managers' dashboard."""

from django.db import models
from django.db.models.functions import Coalesce

from config.timeline import TimelineEvent

from .locations import Location


def promised_units() -> Coalesce:
    """A supply's units promised and still waiting for it (its open promises), as an
    annotation of a Supply query: 0 when none. Its free units are ``outstanding``
    less these."""
    return Coalesce(
        models.Sum("promises__units", filter=models.Q(promises__status="open")),
        models.Value(0),
        output_field=models.BigIntegerField(),
    )


class Supply(models.Model):
    """Units expected at ``location``: announced by a ``receipt_expected`` entry (a
    purchase order, ``reference`` its ``supply_reference``) or sent by a
    ``transfer_out`` to here (``reference`` the transfer's ledger reference). Dated
    supply (``expected_at`` set) is promisable: pre-orders are promised against it,
    earliest first. Undated supply (an advance notice sent without a date) is still
    counted as incoming, never promised."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Purchase order"
        TRANSFER = "transfer", "Transfer in transit"

    class Status(models.TextChoices):
        OPEN = "open", "Open: on its way"
        RECEIVED = "received", "Received"
        CALLED_OFF = "called_off", "Called off"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.RECEIVED, Status.CALLED_OFF}),
        Status.RECEIVED: frozenset(),
        Status.CALLED_OFF: frozenset(),
    }

    kind = models.CharField(max_length=10, choices=Kind.choices)
    channel = models.ForeignKey(
        "catalog.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The source that announced it; its references are its own.",
    )
    reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="The purchase order (supply_reference), or the transfer's ledger "
        "reference; empty for a notice that named none.",
    )
    movement = models.OneToOneField(
        "inventory.StockMovement",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The ledger entry that announced it.",
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", help_text="Due here."
    )
    from_location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="For a transfer: the sender.",
    )
    expected_at = models.DateTimeField(
        null=True, blank=True, help_text="When it is due; empty: undated."
    )
    quantity = models.PositiveBigIntegerField(help_text="Units expected.")
    received = models.PositiveBigIntegerField(default=0)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=160, blank=True)

    class Meta:
        ordering = ["expected_at", "id"]
        verbose_name_plural = "supply"
        indexes = [
            models.Index(
                fields=["sku", "location", "expected_at"],
                condition=models.Q(status="open"),
                name="supply_open",
            ),
            models.Index(fields=["channel", "reference"], name="supply_reference"),
            models.Index(
                fields=["expected_at"],
                condition=models.Q(status="open"),
                name="supply_open_by_date",
            ),
        ]

    def __str__(self) -> str:
        due = f"{self.expected_at:%Y-%m-%d}" if self.expected_at else "undated"
        return f"{self.quantity} × {self.sku_id} → {self.location_id} ({due})"

    @property
    def outstanding(self) -> int:
        """Units still to come."""
        return max(0, self.quantity - self.received)


class SupplyEvent(TimelineEvent):
    """A supply's timeline (``Supply.events``): announced, rescheduled (``detail``
    the dates from and to), received (in part or whole), called off; who, when, why.
    The ledger's entries say what moved; this says what was decided about it."""

    supply = models.ForeignKey(Supply, on_delete=models.CASCADE, related_name="events")

    def __str__(self) -> str:
        return f"{self.supply_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class SupplyPromise(models.Model):
    """Units of a pre-order or back-order promised against one supply: not on the
    shelf, not the shelf's (a till sale or a count may take shelf units while it
    waits). When the supply lands they become committed (or reserved, for a hold) for
    their owner, oldest promise first; when it is rescheduled or called off they move
    to the next supply, or become a ``supply_delayed`` case for a person.

    The owner is a line of another record, named by kind and id (orders build on
    inventory, so inventory names them without importing them)."""

    class Owner(models.TextChoices):
        ORDER_LINE = "order_line", "Order line"
        RESERVATION_LINE = "reservation_line", "Checkout hold line"

    class Status(models.TextChoices):
        OPEN = "open", "Open: waiting for the supply"
        LANDED = "landed", "Landed: the units are the owner's"
        RELEASED = "released", "Released"
        UNSUPPLIED = "unsupplied", "No supply left to promise from"

    supply = models.ForeignKey(
        Supply, on_delete=models.PROTECT, related_name="promises", null=True
    )
    channel = models.ForeignKey(
        "catalog.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The channel that promised them.",
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    owner_kind = models.CharField(max_length=20, choices=Owner.choices)
    owner_id = models.BigIntegerField()
    units = models.PositiveBigIntegerField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.OPEN
    )
    promised_at = models.DateTimeField(
        help_text="When first promised: the oldest promise keeps its units first."
    )
    expected_at = models.DateTimeField(
        null=True, blank=True, help_text="The promise date: its supply's, as it stands."
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["promised_at", "id"]
        indexes = [
            models.Index(
                fields=["supply", "promised_at"],
                condition=models.Q(status="open"),
                name="supply_promise_open",
            ),
            models.Index(fields=["owner_kind", "owner_id"], name="supply_promise_of"),
            # The SKU's cap counts its promises waiting, with or without supply.
            models.Index(
                fields=["sku"],
                condition=models.Q(status__in=["open", "unsupplied"]),
                name="supply_promise_open_sku",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.units} × {self.sku_id} for {self.owner_kind} {self.owner_id}"


class TransferRoute(models.Model):
    """A lane the retailer set between two locations: how long units take from one to
    the other (a transfer sent without an ``expected_at`` is due this long after it
    left) and what moving one unit costs. Transfer proposals pair only locations with
    a lane between them, and a changed pickup store sends units along one."""

    from_location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="+"
    )
    to_location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="+"
    )
    lead_time_hours = models.PositiveIntegerField(
        help_text="Hours from dispatch to arrival."
    )
    cost_per_unit = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=0,
        help_text="What moving one unit along this lane costs (carrier, handling).",
    )

    class Meta:
        ordering = ["from_location__code", "to_location__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_location", "to_location"], name="transfer_route_once"
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.from_location_id} → {self.to_location_id}: {self.lead_time_hours} h"
        )
