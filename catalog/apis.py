"""Catalogue API: products and SKUs, created or updated by code with PUT. The
channels' endpoint is inventory's (``inventory.channel_apis``): a channel's network
is a list of locations, which the catalogue does not know."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from config.api import UpsertByCodeViewSet

from . import selectors, services
from .filters import ProductFilter, SkuFilter
from .serializers import (
    ProductInputSerializer,
    ProductSerializer,
    SkuInputSerializer,
    SkuSerializer,
)


def upsert_schema(input_serializer, output_serializer, what: str, refusals=None):
    """The schema of ``PUT /<resource>/{code}/`` (``UpsertByCodeViewSet.update``)."""
    return extend_schema(
        summary=f"Create or update a {what} by code",
        description=(
            f"Creates the {what} (201) or updates it (200). Only `name` is required; "
            "fields left out keep their current value, or a default on create."
        ),
        request=input_serializer,
        responses={
            200: output_serializer,
            201: output_serializer,
            400: OpenApiResponse(description="Field errors; nothing was written."),
            **(refusals or {}),
        },
    )


@extend_schema_view(
    update=upsert_schema(ProductInputSerializer, ProductSerializer, "product")
)
class ProductViewSet(UpsertByCodeViewSet):
    serializer_class = ProductSerializer
    input_serializer_class = ProductInputSerializer
    upsert_service = staticmethod(services.product_upsert)
    filterset_class = ProductFilter
    ordering_fields = ["code", "name", "updated_at"]

    def get_queryset(self):
        return selectors.product_queryset()


@extend_schema_view(
    update=upsert_schema(
        SkuInputSerializer,
        SkuSerializer,
        "SKU",
        refusals={
            409: OpenApiResponse(
                description="`kit_holds_stock`: `components` would make a kit of a "
                "SKU that holds stock (the `locations` it holds stock at are named); "
                "a kit holds none of its own. Nothing was written."
            )
        },
    )
)
class SkuViewSet(UpsertByCodeViewSet):
    serializer_class = SkuSerializer
    input_serializer_class = SkuInputSerializer
    upsert_service = staticmethod(services.sku_upsert)
    filterset_class = SkuFilter
    ordering_fields = ["code", "name", "updated_at"]

    def get_queryset(self):
        return selectors.sku_queryset()
