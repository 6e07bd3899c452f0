"""Protected allocations API: ``PUT|DELETE|GET /api/v1/allocations/{channel}/{sku}/
{location}/`` and the list ``GET /api/v1/allocations/?channel=&sku=&location=``. The
rules live in ``inventory.services.allocations`` (writes) and
``inventory.allocations`` (the figures); this module only translates.

Who may: writing takes the ``manage_allocations`` scope, which no token holds unless
issued with it; managers signed in hold it. A token bound to a channel that holds it
manages its own channel's allocations only (another channel's is a 403
``channel_not_permitted``). Reading takes ``read_availability``; a bound token reads
its own channel's only, as it reads availability as itself.
"""

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Channel, Sku
from config.access import (
    Actor,
    Scope,
    bound_channel_code,
    ensure_may_act_for_channel,
)
from config.api import validate_code
from config.replicas import ReadsFromReplica

from . import services
from .allocation_serializers import (
    AllocationFilter,
    AllocationInputSerializer,
    AllocationSerializer,
)
from .allocations import allocation_queryset, allocation_row, allocation_rows
from .models import Allocation, Location

PATH = [
    OpenApiParameter(
        "channel", OpenApiTypes.STR, OpenApiParameter.PATH, description="Channel code."
    ),
    OpenApiParameter(
        "sku", OpenApiTypes.STR, OpenApiParameter.PATH, description="SKU code."
    ),
    OpenApiParameter(
        "location",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="Location code.",
    ),
]
# The records a URL names, by the URL's name for each.
RECORDS = {"channel": Channel, "sku": Sku, "location": Location}
LABELS = {"channel": "channel", "sku": "SKU", "location": "location"}


class AllocationListView(ReadsFromReplica, ListAPIView):
    read_scope = Scope.READ_AVAILABILITY
    serializer_class = AllocationSerializer
    filterset_class = AllocationFilter
    ordering_fields = ["units", "updated_at"]

    def get_queryset(self):
        allocations = allocation_queryset()
        if getattr(self, "swagger_fake_view", False):
            return allocations
        bound = bound_channel_code(self.request)
        if bound is None:
            return allocations
        # Another channel's protections are its own business.
        asked = self.request.query_params.get("channel")
        if asked:
            ensure_may_act_for_channel(self.request, asked)
        return allocations.filter(channel__code=bound)

    @extend_schema(
        summary="Protected allocations, with what is in force and what is short",
        description=(
            "Every allocation (a bound token: its own channel's), by channel, SKU and "
            "location code, paginated. `in_force` is `units` less the channel's own "
            "active holds there; `shortfall` is how much of it the stock there no "
            "longer covers. `?channel=` another channel with a bound token is 403."
        ),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        rows = allocation_rows(allocations=page)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


class AllocationView(ReadsFromReplica, GenericAPIView):
    read_scope = Scope.READ_AVAILABILITY
    write_scope = Scope.MANAGE_ALLOCATIONS
    serializer_class = AllocationSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        summary="One protected allocation",
        parameters=PATH,
        responses={
            200: AllocationSerializer,
            404: OpenApiResponse(description="Nothing protected there."),
        },
    )
    def get(self, request: Request, channel: str, sku: str, location: str):
        found = _named(request, channel=channel, sku=sku, location=location)
        allocation = allocation_queryset().filter(**found).first()
        if allocation is None:
            raise Http404
        return Response(self.get_serializer(allocation_row(allocation=allocation)).data)

    @extend_schema(
        summary="Protect units for a channel at a SKU and location",
        description=(
            "Creates the allocation (201) or changes its units (200); `units: 0` "
            "lifts it (200, the row with `units` 0, whether or not one was there). "
            "Other channels' available-to-promise there leaves the units out at once, "
            "and every channel's webhooks and change feed carry the new figures. 400 "
            "for unknown codes, units beyond 0 to 1,000,000, a closed or back-office "
            "channel, or a location closed or outside the channel's network. Needs "
            "`manage_allocations`; a bound token, for its own channel only."
        ),
        parameters=PATH,
        request=AllocationInputSerializer,
        responses={
            200: AllocationSerializer,
            201: AllocationSerializer,
        },
    )
    def put(self, request: Request, channel: str, sku: str, location: str):
        ensure_may_act_for_channel(request, channel)
        incoming = AllocationInputSerializer(data=request.data)
        errors = {} if incoming.is_valid() else dict(incoming.errors)
        found, unknown = _records(channel=channel, sku=sku, location=location)
        errors.update(unknown)
        if errors:
            raise serializers.ValidationError(errors)
        units = incoming.validated_data["units"]
        actor = Actor.of_request(request)
        allocation, created = services.allocation_set(**found, units=units, actor=actor)
        if allocation is None:
            allocation = Allocation(
                **found, units=0, updated_by=actor.name, updated_at=timezone.now()
            )
        return Response(
            self.get_serializer(allocation_row(allocation=allocation)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Lift a protection",
        description=(
            "204: the units are shared again. 404 when nothing is protected there (or "
            "a code is unknown). Needs `manage_allocations`; a bound token, for its "
            "own channel only."
        ),
        parameters=PATH,
        request=None,
        responses={
            204: OpenApiResponse(description="Lifted."),
            404: OpenApiResponse(description="Nothing protected there."),
        },
    )
    def delete(self, request: Request, channel: str, sku: str, location: str):
        found = _named(request, channel=channel, sku=sku, location=location)
        services.allocation_remove(**found, actor=Actor.of_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _records(**codes: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The channel, SKU and location the URL names, and a field error for each code
    that is malformed or names nothing."""
    found: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, code in codes.items():
        try:
            validate_code(code)
        except serializers.ValidationError as error:
            errors[name] = list(error.detail)
            continue
        record = RECORDS[name].objects.filter(code=code).first()
        if record is None:
            errors[name] = [f"Unknown {LABELS[name]} {code!r}."]
        else:
            found[name] = record
    return found, errors


def _named(request: Request, **codes: str) -> dict[str, Any]:
    """The records the URL names, for a caller that may act for its channel; a code
    malformed or unknown names no allocation: 404."""
    ensure_may_act_for_channel(request, codes["channel"])
    found, errors = _records(**codes)
    if errors:
        raise Http404
    return found
