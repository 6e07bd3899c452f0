"""Locations: the stores, warehouses and distribution centres that hold stock."""

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
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"
