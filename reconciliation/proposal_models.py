"""Transfer proposals: units one location will not sell for a long while, proposed to
a location about to run out of them, along a lane the retailer set
(``inventory.TransferRoute``). Made nightly and by a manager's button
(``services.proposals``); a manager approves (perhaps another quantity) or rejects
each; an approved one becomes an ``inventory.TransferRequest`` the sending store works
like any other.

The figures each side had when it was proposed are kept on the proposal, so the
screen, the API and the dashboard say why it was proposed after the stock moved on.
"""

from django.db import models

from config.timeline import TimelineEvent
from inventory.models import Location, TransferRequest


class TransferProposal(models.Model):
    """Send ``quantity`` of a SKU from where it outlasts ``TRANSFER_SURPLUS_DAYS`` of
    its rate of sale to where it runs out within ``TRANSFER_SHORTAGE_DAYS``."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved: transfer requested"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded by a later proposal run"

    # The allowed transitions, and nothing else: a proposal is decided once; one
    # still undecided when proposals are made again gives way to the new ones.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PROPOSED: frozenset(
            {Status.APPROVED, Status.REJECTED, Status.SUPERSEDED}
        ),
        Status.APPROVED: frozenset(),
        Status.REJECTED: frozenset(),
        Status.SUPERSEDED: frozenset(),
    }

    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    from_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+"
    )
    to_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(help_text="Units proposed.")
    approved_quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Units the manager approved (may differ)."
    )
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PROPOSED
    )
    # The figures when proposed: available now, units sold a day, days of cover
    # (available ÷ rate; empty when the location sold none), spare and short.
    from_available = models.BigIntegerField()
    from_rate = models.DecimalField(max_digits=12, decimal_places=3)
    from_days_cover = models.DecimalField(
        max_digits=12, decimal_places=1, null=True, blank=True
    )
    from_spare = models.BigIntegerField(
        help_text="Units it can send: beyond its own needs, its walk-in units and "
        "what the transfer channel keeps back there."
    )
    to_available = models.BigIntegerField()
    to_rate = models.DecimalField(max_digits=12, decimal_places=3)
    to_days_cover = models.DecimalField(max_digits=12, decimal_places=1)
    to_on_the_way = models.BigIntegerField(
        default=0,
        help_text="Units already on their way to it on transfers proposals made "
        "(requested or in transit); transfers for customers are not counted.",
    )
    to_short = models.BigIntegerField(
        help_text="Units it would be short of within the shortage days."
    )
    lead_time_hours = models.PositiveIntegerField()
    distance_km = models.DecimalField(
        max_digits=8, decimal_places=1, null=True, blank=True
    )
    expected_units_saved = models.PositiveIntegerField(
        help_text="Units that would otherwise be short within the shortage days."
    )
    cost_per_unit = models.DecimalField(max_digits=10, decimal_places=2)
    cost = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Units moving × the lane's cost per unit (approved units once "
        "approved).",
    )
    transfer = models.ForeignKey(
        TransferRequest,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The transfer request an approval made.",
    )
    proposed_at = models.DateTimeField()
    proposed_by = models.CharField(max_length=160)
    decided_by = models.CharField(max_length=160, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(
        max_length=300, blank=True, help_text="Why it was approved or rejected."
    )

    class Meta:
        ordering = ["-proposed_at", "-expected_units_saved", "id"]
        indexes = [
            models.Index(fields=["status", "proposed_at"], name="proposal_status"),
            models.Index(fields=["decided_at"], name="proposal_decided_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(from_location=models.F("to_location")),
                name="proposal_between_two_locations",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.quantity} × {self.sku_id} "
            f"{self.from_location_id} → {self.to_location_id} ({self.status})"
        )

    @property
    def units(self) -> int:
        """The units moving: the approved ones once approved, else those proposed."""
        return (
            self.approved_quantity
            if self.approved_quantity is not None
            else self.quantity
        )


class TransferProposalEvent(TimelineEvent):
    """The proposal's timeline: proposed, approved (with the units), rejected,
    superseded; who and when."""

    proposal = models.ForeignKey(
        TransferProposal, on_delete=models.CASCADE, related_name="events"
    )

    def __str__(self) -> str:
        return f"{self.from_status or 'new'} → {self.to_status} by {self.actor}"
