"""The stock itself: the append-only ledger (StockMovement, its MovementType), its
projection per SKU and location (StockBalance), the conflicts raised when a physical
fact contradicts what was promised (StockConflict), and the outbox of availability
changes the database writes with every change of a balance (AvailabilityChange)."""

from django.db import models

# StockBalance's figure, from the one definition of availability.
from ..availability import available_from
from .locations import Location


class StockBalance(models.Model):
    """The projection of the ledger for one SKU at one location.

    Only ``inventory.services`` writes it, in the same transaction as the ledger entry
    that changes it; ``manage.py rebuild_balances`` recomputes it from the ledger.
    ``available`` is derived (``on_hand - committed - picked - reserved - damaged -
    quality_control``) and never stored, so it cannot drift from its parts.
    """

    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="balances"
    )
    on_hand = models.BigIntegerField(default=0, help_text="Physically there.")
    committed = models.BigIntegerField(
        default=0, help_text="Promised to accepted orders."
    )
    picked = models.BigIntegerField(
        default=0,
        db_default=0,
        help_text="Off the shelf in the pickup-hold area: picked for an order, or "
        "waiting to be put back after a cancellation.",
    )
    reserved = models.BigIntegerField(default=0, help_text="Held for a checkout.")
    damaged = models.BigIntegerField(default=0, help_text="There, but not sellable.")
    quality_control = models.BigIntegerField(
        default=0, help_text="Returns awaiting inspection."
    )
    in_transit = models.BigIntegerField(
        default=0, help_text="Sent to this location, not yet received."
    )
    incoming = models.BigIntegerField(default=0, help_text="Expected receipts.")
    last_count_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the latest applied count happened: on-hand deltas that "
        "occurred at or before it are already in it.",
    )
    last_event_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Latest occurred-at among the entries that moved it (not rejected).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    sequence = models.BigIntegerField(
        default=0,
        db_default=0,
        editable=False,
        help_text="How many times its quantities changed: set by the database on every "
        "change (migration 0016), and carried by the change it sends to the channels.",
    )

    class Meta:
        ordering = ["sku_id", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "location"], name="stock_balance_sku_location_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id}"

    @property
    def available(self) -> int:
        return available_from(self)


class MovementType(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    RECEIPT_EXPECTED = "receipt_expected", "Receipt expected"
    SALE = "sale", "Sale"
    ADJUSTMENT = "adjustment", "Adjustment"
    COUNT = "count", "Count"
    DAMAGE = "damage", "Damage"
    WRITE_OFF = "write_off", "Write-off"
    RETURN_RECEIVED = "return_received", "Return received"
    INSPECTION_PASS = "inspection_pass", "Inspection passed"
    INSPECTION_FAIL = "inspection_fail", "Inspection failed"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    # Promises: written by reservations and orders through inventory.services, never
    # sent by an integration as a movement.
    RESERVE = "reserve", "Reserve"
    RESERVATION_RELEASE = "reservation_release", "Reservation released"
    COMMIT = "commit", "Commit"
    COMMITMENT_RELEASE = "commitment_release", "Commitment released"
    RESERVATION_COMMIT = "reservation_commit", "Reservation committed"
    FULFIL = "fulfil", "Fulfil"
    # Orders (orders.services): a committed unit picked off the shelf into the
    # pickup-hold area, handed over or shipped from there, or put back on the shelf.
    PICK = "pick", "Picked"
    FULFIL_PICKED = "fulfil_picked", "Fulfilled from the pickup-hold area"
    PUT_AWAY = "put_away", "Put back on the shelf"
    # Returns (returns.services): a return a channel announced is incoming where it
    # will arrive, until it arrives or is called off.
    RETURN_EXPECTED = "return_expected", "Return expected"
    RETURN_EXPECTED_CLOSED = "return_expected_closed", "Return expectation closed"
    # Future supply (inventory.services.supply_calls): a purchase order called off,
    # its outstanding units no longer incoming.
    SUPPLY_CALLED_OFF = "supply_called_off", "Expected supply called off"
    # A purchase order's new due date (``expected_at``), on the ledger's trail: no
    # bucket moves.
    SUPPLY_RESCHEDULED = "supply_rescheduled", "Expected supply rescheduled"


class StockMovement(models.Model):
    """One entry of the append-only stock ledger: one event, as it was received.

    The ``*_delta`` fields say exactly what the entry did to the balance of its SKU at
    ``location`` (``other_location_in_transit_delta`` to the balance at
    ``other_location``); the balances are the sum of them, which is what
    ``rebuild_balances`` checks. ``quantity`` is what the source sent: for a count,
    the absolute on-hand as of ``occurred_at``.
    """

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        SUPERSEDED = "superseded", "Superseded by a later count"
        REJECTED = "rejected", "Rejected"

    # Every entry updates each index of the ledger: the foreign keys' own indexes are
    # left out where a composite index below already starts with the key.
    channel = models.ForeignKey(
        "catalog.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The source channel; references are unique per source.",
    )
    reference = models.CharField(max_length=100)
    type = models.CharField(max_length=24, choices=MovementType.choices)
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    other_location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,
        help_text="For transfers: where the units went to, or came from.",
    )
    quantity = models.BigIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    expected_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="For expected receipts and transfers out: when the units are due.",
    )
    supply_reference = models.CharField(
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text="The purchase order an expected receipt (or its receipt) belongs to.",
    )
    occurred_at = models.DateTimeField(help_text="When it happened at the source.")
    recorded_at = models.DateTimeField(help_text="When this ledger recorded it.")
    status = models.CharField(max_length=12, choices=Status.choices)
    status_reason = models.CharField(max_length=300, blank=True)
    actor = models.CharField(
        max_length=160, help_text="Who sent it: token:<name> or user:<username>."
    )
    payload_digest = models.CharField(
        max_length=64,
        editable=False,
        help_text="SHA-256 of the normalised event, to tell a resend from a clash.",
    )
    on_hand_delta = models.BigIntegerField(default=0)
    committed_delta = models.BigIntegerField(default=0)
    picked_delta = models.BigIntegerField(default=0, db_default=0)
    reserved_delta = models.BigIntegerField(default=0)
    damaged_delta = models.BigIntegerField(default=0)
    quality_control_delta = models.BigIntegerField(default=0)
    in_transit_delta = models.BigIntegerField(default=0)
    incoming_delta = models.BigIntegerField(default=0)
    other_location_in_transit_delta = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = "stock ledger entry"
        verbose_name_plural = "stock ledger"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "reference"],
                name="stock_movement_reference_unique_per_source",
            )
        ]
        indexes = [
            models.Index(
                fields=["sku", "location", "occurred_at"],
                name="stock_movement_timeline",
            ),
            models.Index(fields=["recorded_at"], name="stock_movement_recorded"),
            models.Index(fields=["location", "recorded_at"], name="stock_movement_loc"),
            models.Index(
                fields=["other_location"],
                condition=models.Q(other_location__isnull=False),
                name="stock_movement_transfers",
            ),
            # Units sold in a period, by channel (the return-rate report).
            models.Index(
                fields=["occurred_at"],
                condition=models.Q(type__in=["sale", "fulfil", "fulfil_picked"]),
                name="stock_movement_sold",
            ),
            # Stock lost in a period (the managers' dashboard: damage, failed
            # inspections, adjustments and counts that took units away).
            models.Index(
                fields=["occurred_at"],
                condition=models.Q(
                    type__in=["damage", "inspection_fail", "adjustment", "count"]
                ),
                name="stock_movement_loss",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.quantity} · {self.reference}"


class StockConflict(models.Model):
    """A physical fact contradicted the records: availability went below zero.

    Raised by ``inventory.services`` when an entry is recorded; the managers' exception
    queue shows them. While one is open for a SKU at a location, its availability
    reads ``under_review``.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    # The allowed transitions, and nothing else.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.RESOLVED}),
        Status.RESOLVED: frozenset(),
    }

    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    movement = models.ForeignKey(
        StockMovement,
        on_delete=models.PROTECT,
        related_name="conflicts",
        help_text="The entry that caused it.",
    )
    shortfall = models.BigIntegerField(help_text="Units below zero availability.")
    promised = models.BigIntegerField(
        help_text="Committed plus reserved units when it happened."
    )
    on_hand = models.BigIntegerField(help_text="On-hand right after the entry.")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=160, blank=True)
    resolution_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["sku", "location"],
                condition=models.Q(status="open"),
                name="stock_conflict_open",
            )
        ]

    def __str__(self) -> str:
        return f"short {self.shortfall} · {self.sku_id}@{self.location_id}"


class AvailabilityChange(models.Model):
    """The outbox: one row per change of a balance's quantities, written by the
    database in the same transaction as the change (triggers of migration 0016), so
    no path that moves stock can forget it and a rolled-back change leaves none.

    ``sequence`` is the balance's own count of changes: a receiver keeps the highest
    it has seen per SKU and location and drops anything older. ``position`` is the
    change's place in the feed every channel reads (``sync`` app): set after commit,
    in commit order, by one sequencer at a time, so a reader that continues after a
    position never misses a change committed later."""

    # Every change is one more row written with the stock it describes, so it is kept
    # lean: no foreign-key checks (the balance it copies already names an existing
    # SKU and location, and balances are never deleted) and the fewest indexes.
    sku = models.ForeignKey(
        "catalog.Sku",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    sequence = models.BigIntegerField()
    on_hand = models.BigIntegerField()
    committed = models.BigIntegerField()
    picked = models.BigIntegerField()
    reserved = models.BigIntegerField()
    damaged = models.BigIntegerField()
    quality_control = models.BigIntegerField()
    in_transit = models.BigIntegerField()
    incoming = models.BigIntegerField()
    # On PostgreSQL a block range index (migration 0016): rows arrive in time order,
    # so it costs next to nothing to keep and finds a re-send's starting point.
    changed_at = models.DateTimeField()
    position = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Partial: a change is written unplaced, so its insert does not touch it.
            models.UniqueConstraint(
                fields=["position"],
                condition=models.Q(position__isnull=False),
                name="availability_change_position",
            )
        ]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(position__isnull=True),
                name="availability_change_unplaced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id} #{self.sequence}"

    @property
    def available(self) -> int:
        return available_from(self)
