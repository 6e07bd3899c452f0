"""Catalogue API: products, SKUs and channels, created or updated by code with PUT."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from config.api import UpsertByCodeViewSet

from . import selectors, services
from .filters import ChannelFilter, ProductFilter, SkuFilter
from .serializers import (
    ChannelInputSerializer,
    ChannelSerializer,
    ProductInputSerializer,
    ProductSerializer,
    SkuInputSerializer,
    SkuSerializer,
)


def _upsert_schema(input_serializer, output_serializer, what: str):
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
        },
    )


@extend_schema_view(
    update=_upsert_schema(ProductInputSerializer, ProductSerializer, "product")
)
class ProductViewSet(UpsertByCodeViewSet):
    serializer_class = ProductSerializer
    input_serializer_class = ProductInputSerializer
    upsert_service = staticmethod(services.product_upsert)
    filterset_class = ProductFilter
    ordering_fields = ["code", "name", "updated_at"]

    def get_queryset(self):
        return selectors.product_queryset()


@extend_schema_view(update=_upsert_schema(SkuInputSerializer, SkuSerializer, "SKU"))
class SkuViewSet(UpsertByCodeViewSet):
    serializer_class = SkuSerializer
    input_serializer_class = SkuInputSerializer
    upsert_service = staticmethod(services.sku_upsert)
    filterset_class = SkuFilter
    ordering_fields = ["code", "name", "updated_at"]

    def get_queryset(self):
        return selectors.sku_queryset()


@extend_schema_view(
    update=_upsert_schema(ChannelInputSerializer, ChannelSerializer, "channel")
)
class ChannelViewSet(UpsertByCodeViewSet):
    serializer_class = ChannelSerializer
    input_serializer_class = ChannelInputSerializer
    upsert_service = staticmethod(services.channel_upsert)
    filterset_class = ChannelFilter
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        return selectors.channel_queryset()
