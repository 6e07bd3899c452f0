"""Orders: a channel's claim on real units, line by line, with the location that
fulfils each line, the routing decision behind it, and one timeline of everything
that happened to it (OrderEvent). ReturnToStockTask is the unit picked for an order
that will not leave with it: it becomes available again only when staff confirm it
is back on the shelf. PackingProblem is the units a packer of a shipped order could
not find or found damaged, and what became of them."""

from django.db import models

from config.timeline import TimelineEvent


class Method(models.TextChoices):
    SHIP = "ship", "Ship"
    PICKUP = "pickup", "Pick up in store"
    CURBSIDE = "curbside", "Curbside pickup"
    SHIP_FROM_STORE = "ship_from_store", "Ship from store"
    LOCAL_DELIVERY = "local_delivery", "Local delivery"


# Collected at the store by the customer; everything else is shipped or delivered.
COLLECTED_METHODS = frozenset({Method.PICKUP, Method.CURBSIDE})


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        ALLOCATED = "allocated", "Allocated: units committed at its locations"
        IN_PROGRESS = "in_progress", "In progress: being picked"
        READY = "ready", "Ready: every unit picked"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        COLLECTED = "collected", "Collected"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    # The allowed transitions, and nothing else (orders.services derives the status
    # from its lines and refuses a change this table does not hold).
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PLACED: frozenset({Status.ALLOCATED, Status.CANCELLED}),
        Status.ALLOCATED: frozenset(
            {
                Status.IN_PROGRESS,
                Status.PARTIALLY_SHIPPED,
                Status.SHIPPED,
                Status.CANCELLED,
            }
        ),
        Status.IN_PROGRESS: frozenset(
            {Status.READY, Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.CANCELLED}
        ),
        # Ready back to in progress: the customer changed the pickup store, and the
        # new store picks the order again.
        Status.READY: frozenset(
            {
                Status.IN_PROGRESS,
                Status.COLLECTED,
                Status.PARTIALLY_SHIPPED,
                Status.SHIPPED,
                Status.CANCELLED,
            }
        ),
        Status.PARTIALLY_SHIPPED: frozenset({Status.SHIPPED}),
        Status.SHIPPED: frozenset({Status.CLOSED}),
        Status.COLLECTED: frozenset({Status.CLOSED}),
        Status.CLOSED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reference = models.CharField(
        max_length=100, help_text="The channel's order number, unique per channel."
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PLACED
    )
    fulfilment_method = models.CharField(max_length=20, choices=Method.choices)
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField(blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)
    pickup_location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    delivery_address = models.CharField(max_length=300, blank=True)
    delivery_city = models.CharField(max_length=100, blank=True)
    delivery_postal_code = models.CharField(max_length=20, blank=True)
    delivery_country = models.CharField(max_length=2, blank=True)
    delivery_latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True
    )
    delivery_longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True
    )
    promised_by = models.DateTimeField(
        null=True, blank=True, help_text="Ready-by for a pickup, ship-by otherwise."
    )
    reservation = models.OneToOneField(
        "inventory.Reservation",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The checkout hold this order was placed from, if any.",
    )
    routing = models.JSONField(
        default=dict, blank=True, help_text="Which locations fulfil it, and why."
    )
    payload_digest = models.CharField(max_length=64, editable=False)
    placed_by = models.CharField(max_length=160)
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "reference"],
                name="order_reference_unique_per_channel",
            )
        ]
        indexes = [
            models.Index(fields=["status", "placed_at"], name="order_status"),
            models.Index(fields=["placed_at"], name="order_placed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"

    @property
    def is_collected_by_customer(self) -> bool:
        return self.fulfilment_method in COLLECTED_METHODS


class OrderKitLine(models.Model):
    """Kits of one SKU an order sells from one location (a routed kit line split
    across locations, where its channel allows it, is one per location). The units
    move on its component lines (``OrderLine.kit_line``), each made of
    ``OrderLine.per_kit`` units per kit as the kit stood when the order took it: a kit
    redefined later changes nothing ordered. Its figures are the component lines':
    a kit is fulfilled, cancelled or open as far as every component is."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="kit_lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} kits × {self.sku_id} @ {self.location_id}"

    def kits(self, components: list["OrderLine"], units) -> int:
        """Whole kits as far as ``units(line)`` of every component go (open, picked,
        cancelled, fulfilled): the scarcest component decides."""
        return min((units(line) // line.per_kit for line in components), default=0)


class OrderLine(models.Model):
    """Units of one SKU from one location. Quantities carry the truth; ``status`` is
    derived from them through its own table of transitions."""

    class Status(models.TextChoices):
        ALLOCATED = "allocated", "Allocated"
        PICKING = "picking", "Picking: some units picked"
        PICKED = "picked", "Picked"
        SHORT = "short", "Short: waiting for a decision"
        AWAITING_SUPPLY = "awaiting_supply", "Pre-ordered: waiting for supply"
        PARTIALLY_FULFILLED = "partially_fulfilled", "Partially fulfilled"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"

    TRANSITIONS: dict[str, frozenset[str]] = {
        # Units promised against supply: they move on when it lands (allocated), or
        # are cancelled.
        Status.AWAITING_SUPPLY: frozenset(
            {
                Status.ALLOCATED,
                Status.PICKING,
                Status.PICKED,
                Status.SHORT,
                Status.PARTIALLY_FULFILLED,
                Status.FULFILLED,
                Status.CANCELLED,
            }
        ),
        Status.ALLOCATED: frozenset(
            {
                Status.AWAITING_SUPPLY,
                Status.PICKING,
                Status.PICKED,
                Status.SHORT,
                Status.PARTIALLY_FULFILLED,
                Status.FULFILLED,
                Status.CANCELLED,
            }
        ),
        # Picking or picked back to allocated (or short, for units on their way from
        # the store the customer left): a changed pickup store, whose new store picks
        # the order again.
        Status.PICKING: frozenset(
            {
                Status.ALLOCATED,
                Status.AWAITING_SUPPLY,
                Status.PICKED,
                Status.SHORT,
                Status.PARTIALLY_FULFILLED,
                Status.FULFILLED,
                Status.CANCELLED,
            }
        ),
        # A decision on the short units: back on the order from elsewhere (a
        # transfer), or cancelled (a substitute, a later shipment, or nothing).
        Status.SHORT: frozenset(
            {
                Status.ALLOCATED,
                Status.AWAITING_SUPPLY,
                Status.PICKING,
                Status.PICKED,
                Status.CANCELLED,
            }
        ),
        Status.PICKED: frozenset(
            {
                Status.ALLOCATED,
                Status.SHORT,
                Status.AWAITING_SUPPLY,
                Status.PARTIALLY_FULFILLED,
                Status.FULFILLED,
                Status.CANCELLED,
            }
        ),
        Status.PARTIALLY_FULFILLED: frozenset({Status.FULFILLED}),
        Status.FULFILLED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The location that fulfils this line.",
    )
    quantity = models.PositiveIntegerField()
    cancelled_quantity = models.PositiveIntegerField(default=0)
    picked_quantity = models.PositiveIntegerField(
        default=0, help_text="In the pickup-hold area for this order now."
    )
    fulfilled_quantity = models.PositiveIntegerField(default=0)
    short_quantity = models.PositiveIntegerField(
        default=0,
        help_text="Not found or damaged when picking, waiting for a decision: "
        "neither committed nor picked.",
    )
    awaiting_supply_quantity = models.PositiveIntegerField(
        default=0,
        help_text="Promised against dated supply (a pre-order or back-order): not "
        "committed until the supply lands.",
    )
    supply_expected_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The promise date of the units awaiting supply: the latest of the "
        "supply they are promised against.",
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.ALLOCATED
    )
    kit_line = models.ForeignKey(
        OrderKitLine,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="components",
        help_text="The kit this line is a component of; empty for a SKU sold alone.",
    )
    per_kit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Units of this component in one kit."
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["location", "order"], name="order_line_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kit_line__isnull=True, per_kit__isnull=True)
                | models.Q(kit_line__isnull=False, per_kit__gte=1),
                name="order_line_kit_part_has_per_kit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku_id} @ {self.location_id}"

    @property
    def open_quantity(self) -> int:
        """Units still to leave with the order."""
        return self.quantity - self.cancelled_quantity - self.fulfilled_quantity

    @property
    def unpicked_quantity(self) -> int:
        """Open units still on the shelf (committed)."""
        return (
            self.open_quantity
            - self.picked_quantity
            - self.short_quantity
            - self.awaiting_supply_quantity
        )

    @property
    def promised_from(self) -> str:
        """Where the line's open units are promised from: ``supply`` while some wait
        for dated supply, else ``shelf``."""
        return "supply" if self.awaiting_supply_quantity else "shelf"


class OrderEvent(TimelineEvent):
    """One entry of an order's timeline: what happened, who did it, from which
    system, when and why; a status change names both ends, and ``detail`` the lines
    it touched (each line's quantity and status change) or the routing decision.
    ``action`` is the service that did it (``order_cancel``, ``order_pick``, …);
    ``kind`` is what the timeline shows."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Placed"
        ROUTED = "routed", "Routed"
        STATUS = "status", "Status changed"
        CANCELLED = "cancelled", "Lines cancelled"
        PICKED = "picked", "Lines picked"
        SHIPPED = "shipped", "Lines shipped"
        COLLECTED = "collected", "Collected"
        SHORT = "short", "Units short at picking"
        REFILLED = "refilled", "Short units committed again"
        LINE_ADDED = "line_added", "Line added"
        RETURN_TO_STOCK = "return_to_stock", "Return to stock asked"
        PUT_AWAY = "put_away", "Put back on the shelf"
        SUPPLY_PROMISED = "supply_promised", "Units promised against supply"
        SUPPLY_ARRIVED = "supply_arrived", "Supply arrived: units committed"
        PROMISE_DATE_CHANGED = "promise_date_changed", "Promise date changed"
        SUPPLY_DELAYED = "supply_delayed", "No supply left for the promise"
        PICKUP_LOCATION_CHANGED = (
            "pickup_location_changed",
            "Pickup store changed",
        )
        REROUTED = "rerouted", "Short units re-routed"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    request_reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="The caller's key for the request: the same key again changes "
        "nothing.",
    )
    request_digest = models.CharField(max_length=64, blank=True)

    class Meta(TimelineEvent.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["order", "request_reference"],
                condition=~models.Q(request_reference=""),
                name="order_event_request_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class ReturnToStockTask(models.Model):
    """Units picked for an order that will not leave with it (cancelled after
    picking, or never collected): off the shelf in the pickup-hold area, not
    available, until someone confirms they are back on the shelf."""

    class Status(models.TextChoices):
        OPEN = "open", "Open: waiting to be put back"
        PUT_AWAY = "put_away", "Put back on the shelf"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.PUT_AWAY}),
        Status.PUT_AWAY: frozenset(),
    }

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="return_to_stock_tasks"
    )
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.CharField(max_length=160)
    created_at = models.DateTimeField()
    put_away_by = models.CharField(max_length=160, blank=True)
    put_away_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["location", "status"], name="return_to_stock_at"),
        ]

    def __str__(self) -> str:
        return f"Put back {self.quantity} × {self.sku_id} @ {self.location_id}"


class PackingProblem(models.Model):
    """Units of a shipped order's line (ship, ship from store, local delivery) the
    packer could not find, or found damaged. The stock fact is recorded when reported
    (the ledger corrects the shelf); the units are re-routed at once to the next best
    location that can fill them, else they wait for a person's decision: ship them
    later on a follow-up order, offer a substitute, or cancel them. ``routing`` keeps
    the re-routing decision made when reported (where they went, or why nowhere);
    the caller's keys for the report and the decision make a resend change nothing
    (orders.services.packing)."""

    class Condition(models.TextChoices):
        NOT_FOUND = "not_found", "Not found"
        DAMAGED = "damaged", "Damaged"

    class Status(models.TextChoices):
        OPEN = "open", "Open: waiting for a decision"
        RESOLVED = "resolved", "Resolved"

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.RESOLVED}),
        Status.RESOLVED: frozenset(),
    }

    class Resolution(models.TextChoices):
        REROUTED = "rerouted", "Re-routed to another location"
        SHIP_LATER = "ship_later", "Ship to the customer later"
        SUBSTITUTE = "substitute", "Offer a substitute"
        CANCEL = "cancel", "Cancel these units and tell the customer"

    class Answer(models.TextChoices):
        ACCEPTED = "accepted", "Customer accepted"
        DECLINED = "declined", "Customer declined"

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="packing_problems"
    )
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the packer could not find them.",
    )
    quantity = models.PositiveIntegerField()
    condition = models.CharField(max_length=12, choices=Condition.choices)
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    rerouted_line = models.ForeignKey(
        OrderLine,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The line that fills the units now, at the location routed to.",
    )
    substitute_sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    customer_answer = models.CharField(
        max_length=10, choices=Answer.choices, blank=True
    )
    follow_up_order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The order that ships the units later.",
    )
    reported_by = models.CharField(max_length=160)
    reported_at = models.DateTimeField()
    resolved_by = models.CharField(max_length=160, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    routing = models.JSONField(
        default=dict,
        blank=True,
        help_text="The re-routing decision made when reported: the location that "
        "took the units and why, or why none could.",
    )
    request_reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="The reporter's key for the report: the same key again changes "
        "nothing.",
    )
    decision_reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="The key the decision was sent with: the same key again changes "
        "nothing.",
    )

    class Meta:
        ordering = ["reported_at", "id"]
        indexes = [
            models.Index(fields=["status", "location"], name="packing_problem_open")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "request_reference"],
                condition=~models.Q(request_reference=""),
                name="packing_problem_reported_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.condition} on order {self.order_id}"
