"""Catalogue records: what is sold (Product, Sku, a kit's KitComponent) and where it is
sold from (Channel)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from config.records import CODE_VALIDATOR

MAX_SAFETY_BUFFER = 100_000
# Money per unit, in the retailer's currency: two decimals, up to 9,999,999,999.99.
MONEY_DIGITS = 12
MONEY_PLACES = 2
MIN_RESERVATION_TTL_SECONDS = 60
MAX_RESERVATION_TTL_SECONDS = 24 * 3600  # a hold longer than a day is an order
DEFAULT_RESERVATION_TTL_SECONDS = 15 * 60


class Product(models.Model):
    """A sellable article (a style); its SKUs are the variants a shopper actually buys."""

    code = models.CharField(max_length=64, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    brand = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True, max_length=5000)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Sku(models.Model):
    """One stock-keeping unit: the level at which stock is counted, promised and sold."""

    code = models.CharField(max_length=64, unique=True, validators=[CODE_VALIDATOR])
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="skus", null=True, blank=True
    )
    name = models.CharField(max_length=200)
    barcode = models.CharField(
        max_length=14, blank=True, help_text="GTIN-8, -12, -13 or -14; empty if none."
    )
    attributes = models.JSONField(default=dict, blank=True)
    safety_buffer = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_SAFETY_BUFFER)],
        help_text="If set, held back from every channel's available-to-promise for "
        "this SKU instead of the channel's own buffer.",
    )
    # What a unit costs the retailer and what it sells for: the dashboard values lost
    # stock at cost and lost sales at price. Empty: not known (shown as missing, never
    # counted as zero).
    cost = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="What one unit costs the retailer; empty if not known.",
    )
    price = models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="What one unit sells for; empty if not known.",
    )
    # Kept by ``catalog.kits`` with the SKU's components: a kit is sold as
    # one SKU while the shelves hold its parts, so it holds no stock of its own.
    is_kit = models.BooleanField(
        default=False,
        editable=False,
        help_text="Sold as one SKU, made of its components; holds no stock itself.",
    )
    # Bumped whenever the components change: a kit's sequence at a location is this
    # times KIT_REVISION_STEP plus its components' sequences there, so it only rises.
    kit_revision = models.PositiveIntegerField(default=0, editable=False)
    future_promise_limit = models.PositiveIntegerField(
        default=0,
        help_text="Units that may be promised against dated supply (pre-orders and "
        "back-orders) at any one time, across every location; 0: none.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "SKU"
        constraints = [
            # A scanned barcode must lead to exactly one SKU; many SKUs may have none.
            models.UniqueConstraint(
                fields=["barcode"], condition=~Q(barcode=""), name="sku_barcode_unique"
            ),
            models.CheckConstraint(
                condition=Q(cost__gte=0) | Q(cost__isnull=True),
                name="sku_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0) | Q(price__isnull=True),
                name="sku_price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


MAX_KIT_COMPONENTS = 20
MAX_COMPONENT_QUANTITY = 1_000
# A kit's sequence steps this far at each redefinition: far above any sum of its
# components' sequences, so a receiver never drops a new definition's rows as older.
KIT_REVISION_STEP = 10**12


class KitComponent(models.Model):
    """One part of a kit: ``quantity`` units of ``component`` go into one ``kit``.
    A component is never itself a kit; the same part twice is one row."""

    kit = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="in_kits")
    quantity = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_COMPONENT_QUANTITY)]
    )

    class Meta:
        ordering = ["kit", "component"]
        constraints = [
            models.UniqueConstraint(
                fields=["kit", "component"], name="kit_component_once"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="kit_component_quantity_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kit=models.F("component")), name="kit_not_its_own_part"
            ),
        ]
        indexes = [models.Index(fields=["component"], name="kit_component_part")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.component_id} in {self.kit_id}"


class Channel(models.Model):
    """A way the retailer sells: a till, the web shop, the app, a marketplace."""

    class Kind(models.TextChoices):
        STORE_POS = "store_pos", "Store POS"
        WEB = "web", "Web shop"
        APP = "app", "App"
        MARKETPLACE = "marketplace", "Marketplace"
        # Not a sales channel: a system that reports stock (ERP, WMS); it is still a
        # source, because every ledger entry names where it came from.
        BACK_OFFICE = "back_office", "Back-office system"

    code = models.CharField(max_length=64, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WEB)
    safety_buffer = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_SAFETY_BUFFER)],
        help_text="Units held back from this channel's available-to-promise.",
    )

    class BufferPolicy(models.TextChoices):
        FIXED = "fixed", "Fixed: the channel's safety buffer everywhere"
        VELOCITY = (
            "velocity",
            "Velocity: each SKU-location's buffer from its rate of sale",
        )

    buffer_policy = models.CharField(
        max_length=8,
        choices=BufferPolicy.choices,
        default=BufferPolicy.FIXED,
        help_text="How the units held back are set: the channel's safety buffer, or "
        "per SKU and location from the channel's rate of sale (recomputed nightly). "
        "A SKU's own buffer always wins.",
    )
    reservation_ttl_seconds = models.PositiveIntegerField(
        default=DEFAULT_RESERVATION_TTL_SECONDS,
        validators=[
            MinValueValidator(MIN_RESERVATION_TTL_SECONDS),
            MaxValueValidator(MAX_RESERVATION_TTL_SECONDS),
        ],
        help_text="How long a checkout hold lasts unless the request says otherwise.",
    )
    allow_future_by_default = models.BooleanField(
        default=False,
        help_text="Holds and order lines that do not say allow_future may promise "
        "what the shelf cannot cover against dated supply (pre-orders).",
    )
    allow_kit_split = models.BooleanField(
        default=False,
        help_text="A kit line may be routed from more than one location and "
        "cancelled part by part; otherwise every kit goes whole.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"
