"""API shapes of protected allocations: the body of a ``PUT`` (``units``), the row
answered and listed (the allocation with its figures now, from
``inventory.allocations.AllocationRow``), and the list's filters."""

import django_filters
from rest_framework import serializers

from config.api import StrictInputSerializer, StrictIntegerField

from .models import Allocation
from .models.channels import MAX_ALLOCATION_UNITS


class AllocationInputSerializer(StrictInputSerializer):
    writes = Allocation
    units = StrictIntegerField(
        min_value=0,
        max_value=MAX_ALLOCATION_UNITS,
        help_text="Units protected for the channel; 0 lifts the protection.",
    )


class AllocationSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="Channel code: whose protection.")
    sku = serializers.CharField(help_text="SKU code.")
    location = serializers.CharField(help_text="Location code.")
    units = serializers.IntegerField(help_text="Units protected (0: lifted).")
    in_force = serializers.IntegerField(
        help_text="What stays protected now: `units` less the channel's own active "
        "holds there, which take from its protection first (0 while the channel is "
        "closed). Other channels' available-to-promise leaves these out."
    )
    available = serializers.IntegerField(
        help_text="What is available at the SKU and location (may be negative)."
    )
    shortfall = serializers.IntegerField(
        help_text="Units of the protection in force that the stock there no longer "
        "covers: `max(0, in_force - max(0, available))`."
    )
    updated_by = serializers.CharField(help_text="Who last set it.")
    updated_at = serializers.DateTimeField()


class AllocationFilter(django_filters.FilterSet):
    channel = django_filters.CharFilter(
        field_name="channel__code", help_text="Channel code."
    )
    sku = django_filters.CharFilter(field_name="sku__code", help_text="SKU code.")
    location = django_filters.CharFilter(
        field_name="location__code", help_text="Location code."
    )

    class Meta:
        model = Allocation
        fields = []
