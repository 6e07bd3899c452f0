"""Demand turned away: each unit a channel asked for and could not be promised (a
checkout's hold or an order refused for lack of stock), kept so a manager can see
the sales lost (RefusedDemand). The refusal itself writes nothing to the ledger and
rolls back; this record is written after it, outside that transaction."""

from django.db import models
from django.utils import timezone


class RefusedDemand(models.Model):
    """One line of a hold or an order refused for lack of stock: which SKU, where
    (no location when routing found none anywhere), how many units were asked for
    and how many could have been promised. The same refusal sent again (the same
    channel, kind, reference, SKU and location) is recorded once."""

    class Kind(models.TextChoices):
        HOLD = "hold", "Checkout hold refused"
        ORDER = "order", "Order refused"

    channel = models.ForeignKey(
        "catalog.Channel", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    reference = models.CharField(max_length=100, help_text="The cart's or order's key.")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        "inventory.Location",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Where it was asked for; empty when no location could fill it.",
    )
    requested = models.PositiveIntegerField()
    available = models.PositiveIntegerField(
        default=0, help_text="What could have been promised at that moment."
    )
    refused_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-refused_at", "-pk"]
        verbose_name = "refused demand"
        verbose_name_plural = "refused demand"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "kind", "reference", "sku", "location"],
                name="refused_demand_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.requested} × {self.sku_id} refused ({self.reference})"

    @property
    def units_lost(self) -> int:
        """Units asked for beyond what could be promised."""
        return max(self.requested - self.available, 0)
