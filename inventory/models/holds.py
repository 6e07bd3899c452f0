"""Checkouts' holds on stock: the reservation (Reservation), its lines
(ReservationLine), and its timeline (ReservationTransition: each move, who made it,
when and why)."""

from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from config.timeline import TimelineEvent

from .locations import Location


class Reservation(models.Model):
    """A checkout's all-or-nothing hold on stock, for a few minutes, by its reference.

    Every transition moves units in the ledger (``inventory.services.reservations``)
    and is written to its timeline, ``events`` (ReservationTransition). An active
    hold whose ``expires_at`` has passed no longer counts against availability,
    whether or not the sweep has written its release yet: ``current_status`` reads
    ``expired`` from that moment.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active: units held"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"
        COMMITTED = "committed", "Committed to an order"
        FULFILLED = "fulfilled", "Fulfilled: the units left"
        CANCELLED = "cancelled", "Cancelled after commitment"
        ORDERED = "ordered", "Became an order: its units are the order's now"

    # The allowed transitions, and nothing else.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.ACTIVE: frozenset(
            {Status.RELEASED, Status.EXPIRED, Status.COMMITTED, Status.ORDERED}
        ),
        Status.COMMITTED: frozenset(
            {Status.FULFILLED, Status.CANCELLED, Status.ORDERED}
        ),
        Status.RELEASED: frozenset(),
        Status.EXPIRED: frozenset(),
        Status.FULFILLED: frozenset(),
        Status.CANCELLED: frozenset(),
        Status.ORDERED: frozenset(),
    }

    channel = models.ForeignKey(
        "catalog.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the unique (channel, reference) index starts with it
        help_text="The channel selling; its safety buffer applies.",
    )
    reference = models.CharField(
        max_length=100, help_text="The checkout's own key; unique per channel."
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    ttl_seconds = models.PositiveIntegerField()
    expires_at = models.DateTimeField()
    created_by = models.CharField(max_length=160)
    payload_digest = models.CharField(
        max_length=64,
        editable=False,
        help_text="SHA-256 of the lines, to tell a resend from a different cart.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "reference"],
                name="reservation_reference_unique_per_channel",
            )
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="active"),
                name="reservation_active_expiry",
            ),
            models.Index(fields=["status", "created_at"], name="reservation_status"),
            # A channel's active holds: what its protections have given them
            # (inventory.terms).
            models.Index(
                fields=["channel", "expires_at"],
                condition=models.Q(status="active"),
                name="reservation_active_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"

    def is_lapsed(self, now=None) -> bool:
        """Active on paper, but past its expiry: it holds nothing any more."""
        now = now or timezone.now()
        return self.status == self.Status.ACTIVE and self.expires_at <= now

    def current_status(self, now=None) -> str:
        return self.Status.EXPIRED if self.is_lapsed(now) else self.status

    # What its answer shows: read once (prefetched by the selectors, or handed over
    # by the service that has just written them, by assigning the attribute).
    @cached_property
    def held_lines(self) -> list["ReservationLine"]:
        return list(self.lines.all())

    @cached_property
    def held_kits(self) -> list["ReservationKit"]:
        return list(self.kits.all())

    @cached_property
    def history(self) -> list["ReservationTransition"]:
        return list(self.events.all())


class ReservationLine(models.Model):
    # Indexed by the composite indexes below (a hold writes every index of its lines).
    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    quantity = models.PositiveBigIntegerField()
    future_quantity = models.PositiveBigIntegerField(
        default=0,
        db_default=0,
        help_text="Of ``quantity``, units promised against dated supply (a "
        "pre-order), not reserved on the shelf.",
    )
    supply_expected_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The promise date of the future units: the latest of the supply "
        "they are promised against.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "sku", "location"],
                name="reservation_line_unique_sku_location",
            )
        ]
        indexes = [
            models.Index(fields=["sku", "location"], name="reservation_line_stock")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku_id}@{self.location_id}"

    @property
    def held_quantity(self) -> int:
        """Units reserved on the shelf: the rest waits for supply."""
        return self.quantity - self.future_quantity

    @property
    def promised_from(self) -> str:
        return "supply" if self.future_quantity else "shelf"


class ReservationKit(models.Model):
    """A kit a hold took: ``quantity`` kits at ``location``. Its units are held on
    the hold's component lines (``ReservationLine``, summed with any units of the
    same SKU the cart asked for besides); ``components`` keeps what one kit was
    made of when it was taken, ``[{"sku_id", "sku", "quantity"}, …]``, so a kit
    redefined later changes nothing held."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="kits"
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveBigIntegerField()
    components = models.JSONField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "sku", "location"],
                name="reservation_kit_unique_sku_location",
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} kits {self.sku_id}@{self.location_id}"


class ReservationTransition(TimelineEvent):
    """One move of a reservation on its timeline (``Reservation.events``): the status
    it left (empty for the hold being placed) and reached, who moved it and from
    which system, when, and the service's key for it (``reservation_commit``, …).
    The checkout's fast path writes the first one in SQL
    (inventory/sql/place_hold.sql), with the same columns."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="events"
    )
    to_status = models.CharField(max_length=20, choices=Reservation.Status.choices)

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"
