"""Query-string filters for the catalogue lists."""

import django_filters
from django.db.models import Q, QuerySet

from config.moments import MomentFilter

from .models import Channel, Product, Sku


def _search(queryset: QuerySet, name: str, value: str) -> QuerySet:
    return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))


class ProductFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method=_search, help_text="Part of the code or name."
    )
    updated_since = MomentFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Product
        fields = ["is_active", "brand"]


class SkuFilter(django_filters.FilterSet):
    product = django_filters.CharFilter(
        field_name="product__code", help_text="Product code."
    )
    search = django_filters.CharFilter(
        method=_search, help_text="Part of the code or name."
    )
    updated_since = MomentFilter(field_name="updated_at", lookup_expr="gte")
    # The SKUs whose lost units the dashboard cannot value yet.
    cost_missing = django_filters.BooleanFilter(
        field_name="cost", lookup_expr="isnull", help_text="true: SKUs with no cost."
    )
    price_missing = django_filters.BooleanFilter(
        field_name="price", lookup_expr="isnull", help_text="true: SKUs with no price."
    )

    # A kit has no stock of its own, so a list of a location's availability never
    # names it: an integrator lists its kits here and reads them by code.
    is_kit = django_filters.BooleanFilter(
        help_text="true: kits only (read their availability with `?sku=`)."
    )
    component = django_filters.CharFilter(
        field_name="components__component__code",
        distinct=True,
        help_text="Kits with this SKU among their components.",
    )

    class Meta:
        model = Sku
        fields = ["barcode", "is_active"]


class ChannelFilter(django_filters.FilterSet):
    class Meta:
        model = Channel
        fields = ["kind", "is_active"]
