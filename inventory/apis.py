"""Locations API: created or updated by code with PUT."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from config.api import UpsertByCodeViewSet

from . import selectors, services
from .filters import LocationFilter
from .serializers import LocationInputSerializer, LocationSerializer


@extend_schema_view(
    update=extend_schema(
        summary="Create or update a location by code",
        description=(
            "Creates the location (201) or updates it (200). Only `name` is required; "
            "fields left out keep their current value, or a default on create."
        ),
        request=LocationInputSerializer,
        responses={
            200: LocationSerializer,
            201: LocationSerializer,
            400: OpenApiResponse(description="Field errors; nothing was written."),
        },
    )
)
class LocationViewSet(UpsertByCodeViewSet):
    serializer_class = LocationSerializer
    input_serializer_class = LocationInputSerializer
    upsert_service = staticmethod(services.location_upsert)
    filterset_class = LocationFilter
    ordering_fields = ["code", "name", "kind"]

    def get_queryset(self):
        return selectors.location_queryset()
