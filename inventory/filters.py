"""Query-string filters for the lists of locations, ledger entries and reservations."""

import django_filters
from django.db.models import Q, QuerySet

from config.moments import MomentFilter

from .models import Location, MovementType, Reservation, StockMovement
from .selectors import reservations_in_status


def _search(queryset: QuerySet, name: str, value: str) -> QuerySet:
    return queryset.filter(
        Q(code__icontains=value) | Q(name__icontains=value) | Q(city__icontains=value)
    )


class LocationFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method=_search, help_text="Part of code, name or city."
    )

    class Meta:
        model = Location
        fields = [
            "kind",
            "pickup_enabled",
            "ship_from_store_enabled",
            "is_active",
            "country",
        ]


class MovementFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="sku__code", help_text="SKU code.")
    location = django_filters.CharFilter(
        field_name="location__code", help_text="Location code."
    )
    channel = django_filters.CharFilter(
        field_name="channel__code", help_text="Source channel code."
    )
    reference = django_filters.CharFilter(help_text="The source's reference.")
    type = django_filters.MultipleChoiceFilter(choices=MovementType.choices)
    status = django_filters.ChoiceFilter(choices=StockMovement.Status.choices)
    since = MomentFilter(
        field_name="recorded_at",
        lookup_expr="gte",
        help_text="Recorded at or after this time (ISO 8601).",
    )
    occurred_since = MomentFilter(
        field_name="occurred_at",
        lookup_expr="gte",
        help_text="Occurred at or after this time (ISO 8601).",
    )

    class Meta:
        model = StockMovement
        fields = []


class ReservationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=Reservation.Status.choices,
        method=lambda queryset, name, value: reservations_in_status(queryset, value),
        help_text="As the reader sees it: a hold past its expiry is `expired`.",
    )
    channel = django_filters.CharFilter(field_name="channel__code")
    reference = django_filters.CharFilter(help_text="The checkout's reference.")
    sku = django_filters.CharFilter(
        method="holding",
        help_text="Holds this SKU: on a line, or a kit the cart named.",
    )
    location = django_filters.CharFilter(
        field_name="lines__location__code",
        distinct=True,
        help_text="Holds stock at this location.",
    )
    since = MomentFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Placed at or after this time (ISO 8601).",
    )

    class Meta:
        model = Reservation
        fields = []

    def holding(self, queryset, name, value):
        # A kit has no line of its own: its holds are found by the kits they took.
        return queryset.filter(
            Q(lines__sku__code=value) | Q(kits__sku__code=value)
        ).distinct()
