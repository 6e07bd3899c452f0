"""Filters for the returns list."""

import django_filters
from django.db.models import Q

from config.moments import MomentFilter

from .models import Return, ReturnReason


class ReturnFilter(django_filters.FilterSet):
    channel = django_filters.CharFilter(
        field_name="channel__code", help_text="Bought through this channel."
    )
    status = django_filters.MultipleChoiceFilter(choices=Return.Status.choices)
    location = django_filters.CharFilter(
        field_name="location__code", help_text="Received (or arriving) here."
    )
    reference = django_filters.CharFilter(help_text="The return number.")
    order = django_filters.CharFilter(
        field_name="order__reference", help_text="The channel's order number."
    )
    sku = django_filters.CharFilter(
        method="filter_sku",
        help_text="Has a line of it; a kit's code: a line that came back in the kit.",
    )
    reason = django_filters.ChoiceFilter(
        field_name="lines__reason", choices=ReturnReason.choices, distinct=True
    )
    overdue = django_filters.BooleanFilter(
        field_name="overdue_since",
        lookup_expr="isnull",
        exclude=True,
        help_text="Flagged as waiting too long for inspection.",
    )
    since = MomentFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after."
    )
    until = MomentFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before."
    )

    class Meta:
        model = Return
        fields = []

    def filter_sku(self, queryset, name: str, value: str):
        of_it = Q(lines__sku__code=value) | Q(lines__kit__code=value)
        return queryset.filter(pk__in=Return.objects.filter(of_it).values("pk"))
