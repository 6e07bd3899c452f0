"""What a channel sells from and keeps for itself, location by location: its network
(NetworkLocation: the locations it sells from; none named, every active one), the
units protected for it (Allocation), and the buffers its rate of sale sets under the
``velocity`` policy (VelocityBuffer). The rule that reads them is in
``inventory.availability``; the selector that reads them for a balance, in
``inventory.terms``."""

from django.core.validators import MaxValueValidator
from django.db import models

from catalog.models import MAX_SAFETY_BUFFER

from .locations import Location

# A protection beyond this is a typing error, not a plan.
MAX_ALLOCATION_UNITS = 1_000_000


class NetworkLocation(models.Model):
    """A channel sells from this location: routing, its holds and its orders use only
    the locations of its network, and network availability sums them. A channel with
    none sells from every active location."""

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.CASCADE, related_name="network"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["channel_id", "location__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "location"], name="network_location_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} sells from {self.location_id}"


class Allocation(models.Model):
    """Units of one SKU at one location protected for one channel: other channels'
    available-to-promise leaves them out; the channel itself may take them and the
    shared pool beyond. The channel's active holds there take from its protection
    first, so what stays protected is ``units`` less those holds."""

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.CASCADE, related_name="allocations"
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    units = models.PositiveIntegerField(
        validators=[MaxValueValidator(MAX_ALLOCATION_UNITS)],
        help_text="Units protected for the channel.",
    )
    updated_by = models.CharField(max_length=160, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel_id", "sku_id", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "sku", "location"], name="allocation_once"
            )
        ]
        indexes = [models.Index(fields=["sku", "location"], name="allocation_stock")]

    def __str__(self) -> str:
        return f"{self.units} of {self.sku_id}@{self.location_id} for {self.channel_id}"


class VelocityBuffer(models.Model):
    """A channel's buffer for one SKU at one location, set from its rate of sale on
    that channel (``inventory.services.buffers``); read only while the channel's
    ``buffer_policy`` is ``velocity``, and a SKU's own buffer still wins."""

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.CASCADE, related_name="velocity_buffers"
    )
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    units = models.PositiveIntegerField(
        validators=[MaxValueValidator(MAX_SAFETY_BUFFER)]
    )
    rate = models.FloatField(
        help_text="Units a day sold on the channel here, over SALES_RATE_DAYS."
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["channel_id", "sku_id", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "sku", "location"], name="velocity_buffer_once"
            )
        ]
        indexes = [
            models.Index(fields=["sku", "location"], name="velocity_buffer_stock")
        ]

    def __str__(self) -> str:
        return f"{self.units} at {self.sku_id}@{self.location_id} for {self.channel_id}"
