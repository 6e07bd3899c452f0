"""Where stock is held and who works there: the locations (stores, warehouses,
distribution centres), with what order routing and click-and-collect promises read
of each, and the staff memberships (StaffMembership) that say which stores a member
of staff sees and acts at."""

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from config.records import CODE_VALIDATOR


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
