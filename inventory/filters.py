"""Query-string filters for the location list."""

import django_filters
from django.db.models import Q, QuerySet

from .models import Location


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
