"""Locations and the staff who work there (StaffMembership), and the stock they hold:
the append-only ledger (StockMovement), its projection (StockBalance), the conflicts
raised when a physical fact contradicts what was promised (StockConflict), the holds
checkouts place on stock (Reservation, its lines and its transitions), and units
asked for from another location (TransferRequest)."""

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from config.records import CODE_VALIDATOR

# The one definition of availability; importable from here, as StockBalance uses it.
from .availability import available_from


class Location(models.Model):
    """A place that holds stock; stores may also hand over pickups and ship orders."""

    class Kind(models.TextChoices):
        STORE = "store", "Store"
        WAREHOUSE = "warehouse", "Warehouse"
        DISTRIBUTION_CENTRE = "distribution_centre", "Distribution centre"

    code = models.CharField(max_length=64, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=Kind.choices, default=Kind.STORE)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2."
    )
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    pickup_enabled = models.BooleanField(
        default=False, help_text="Customers may collect click-and-collect orders here."
    )
    ship_from_store_enabled = models.BooleanField(
        default=False, help_text="Online orders may be packed and shipped from here."
    )
    # What order routing weighs (orders.routing): what a shipment from here costs,
    # how many orders a day the team can pack, the units of each SKU a store keeps
    # for walk-in customers, and how far it will send a parcel or a van.
    shipping_cost = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text="What one shipment from here costs, in the shop's currency.",
    )
    daily_order_capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Orders a day this location can pack and ship; empty: no limit.",
    )
    walk_in_buffer = models.PositiveIntegerField(
        default=0,
        help_text="Units of each SKU a store keeps for walk-in customers: routing "
        "never ships them.",
    )
    service_radius_km = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Farthest customer this location ships to; empty: anywhere.",
    )
    # Click-and-collect promises (inventory.selectors.pickup_ready_by): an order
    # placed before the cut-off is ready the same day, after the preparation time;
    # later ones at the next opening plus that time. Uncollected orders expire after
    # the hold days.
    opens_at = models.TimeField(
        default=time(9, 0), help_text="Opening time, in the location's time zone."
    )
    pickup_cutoff = models.TimeField(
        default=time(17, 0),
        help_text="Pickup orders placed before this are ready the same day.",
    )
    pickup_preparation_minutes = models.PositiveIntegerField(
        default=120,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text="Minutes the team needs to pick an order and put it on hold.",
    )
    pickup_hold_days = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Days a ready order waits for its customer before it expires.",
    )
    is_active = models.BooleanField(default=True)
    pos_last_event_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Latest occurred-at among events from a store till (POS) here.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


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


class Reservation(models.Model):
    """A checkout's all-or-nothing hold on stock, for a few minutes, by its reference.

    Every transition moves units in the ledger (``inventory.services.reservations``)
    and is written to ReservationTransition. An active hold whose ``expires_at`` has
    passed no longer counts against availability, whether or not the sweep has
    written its release yet: ``current_status`` reads ``expired`` from that moment.
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
    def history(self) -> list["ReservationTransition"]:
        return list(self.transitions.all())


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


class ReservationTransition(models.Model):
    """Who moved a reservation from one status to another, and when."""

    reservation = models.ForeignKey(
        Reservation, on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(
        max_length=12, blank=True, help_text="Empty for the hold being placed."
    )
    to_status = models.CharField(max_length=12, choices=Reservation.Status.choices)
    actor = models.CharField(max_length=160)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"


class StaffMembership(models.Model):
    """A member of staff works at a location: they see and act on its pickup queue,
    returns and counts, and no other's. A user holding the ``act_at_every_location``
    permission (a manager) sees every location without a membership."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="store_memberships",
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="staff_memberships"
    )
    since = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["location__code", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "location"], name="staff_membership_once"
            )
        ]
        permissions = [
            ("act_at_every_location", "Manager: sees and acts at every location")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.location.code}"


class TransferRequest(models.Model):
    """Units asked for from another location: committed there when asked (so it
    cannot sell them), in transit once dispatched, on hand here once received."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        DISPATCHED = "dispatched", "Dispatched: on the way"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.REQUESTED: frozenset({Status.DISPATCHED, Status.CANCELLED}),
        Status.DISPATCHED: frozenset({Status.RECEIVED}),
        Status.RECEIVED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    from_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="transfers_in"
    )
    channel = models.ForeignKey(
        "catalog.Channel",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The channel whose order the units are for.",
    )
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.CharField(max_length=160)
    requested_at = models.DateTimeField()
    dispatched_by = models.CharField(max_length=160, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    received_by = models.CharField(max_length=160, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=160, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [
            models.Index(fields=["from_location", "status"], name="transfer_from"),
            models.Index(fields=["to_location", "status"], name="transfer_to"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.quantity} × {self.sku_id} "
            f"{self.from_location_id} → {self.to_location_id}"
        )


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


class EventTally(models.Model):
    """Events a source sent that left no ledger entry of their own, per source and
    minute: repeats of an entry already there, references reused for a different
    event, promises refused. Written after the batch commits, and only when there is
    something to count, so the ingest path pays nothing in the common case."""

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    minute = models.DateTimeField()
    duplicates = models.PositiveIntegerField(default=0)
    clashes = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["channel_id", "minute"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "minute"], name="event_tally_channel_minute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.minute:%Y-%m-%d %H:%M}"


class SourceHealth(models.Model):
    """How one source (a channel that sends stock events) is keeping in touch, as
    measured by the minute's check (``inventory.services.source_health_measure``):
    the page, the API and the availability status read this row, not the ledger."""

    channel = models.OneToOneField(
        "catalog.Channel", on_delete=models.CASCADE, related_name="health"
    )
    expected_interval_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Silent longer than this, the source is delayed (a sync_delayed "
        "case opens). Empty: not watched.",
    )
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_occurred_at = models.DateTimeField(null=True, blank=True)
    events_last_hour = models.PositiveIntegerField(default=0)
    lag_median_seconds = models.FloatField(null=True, blank=True)
    lag_p95_seconds = models.FloatField(null=True, blank=True)
    rejected_last_hour = models.PositiveIntegerField(default=0)
    duplicates_last_hour = models.PositiveIntegerField(default=0)
    clashes_last_hour = models.PositiveIntegerField(default=0)
    refused_last_hour = models.PositiveIntegerField(default=0)
    delayed = models.BooleanField(default=False)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["channel__code"]
        verbose_name_plural = "source health"

    def __str__(self) -> str:
        return f"{self.channel_id} health"
