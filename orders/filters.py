"""Filters for the orders and return-to-stock lists."""

import django_filters
from django.db.models import Q, QuerySet

from config.moments import MomentFilter

from .models import Method, Order, ReturnToStockTask


def _at_location(queryset: QuerySet, name: str, value: str) -> QuerySet:
    return queryset.filter(
        Q(lines__location__code=value) | Q(pickup_location__code=value)
    ).distinct()


class OrderFilter(django_filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")
    status = django_filters.MultipleChoiceFilter(choices=Order.Status.choices)
    fulfilment_method = django_filters.ChoiceFilter(choices=Method.choices)
    reference = django_filters.CharFilter(help_text="The channel's order number.")
    location = django_filters.CharFilter(
        method=_at_location, help_text="Fulfilled at, or collected at, this location."
    )
    since = MomentFilter(
        field_name="placed_at", lookup_expr="gte", help_text="Placed at or after."
    )
    until = MomentFilter(
        field_name="placed_at", lookup_expr="lt", help_text="Placed before."
    )

    class Meta:
        model = Order
        fields = []


class ReturnToStockFilter(django_filters.FilterSet):
    location = django_filters.CharFilter(field_name="location__code")
    status = django_filters.ChoiceFilter(choices=ReturnToStockTask.Status.choices)
    order = django_filters.NumberFilter(field_name="order_id")

    class Meta:
        model = ReturnToStockTask
        fields = []
