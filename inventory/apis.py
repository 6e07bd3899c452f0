"""Inventory API: locations (PUT by code), stock movements into the ledger, and
availability read from the balances."""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.access import (
    Actor,
    LocationNotPermitted,
    Scope,
    bound_channel_code,
    ensure_may_act_for_channel,
    ensure_may_record_at,
    is_store_staff_only,
    stores_of,
    with_bound_channel,
)
from config.api import (
    CodeField,
    UpsertByCodeViewSet,
    in_order_asked,
    stock_query,
)
from config.errors import PermissionRefused
from config.fast_serializers import FastSerializer
from config.replicas import ReadsFromReplica

from . import selectors, services
from .availability_records import availability_records
from .errors import InsufficientStock, MovementRejected, ReferenceClash
from .filters import LocationFilter, MovementFilter
from .models import StockMovement
from .renderers import STOCK_RENDERERS
from .schema import MOVEMENT_OR_BATCH, MovementRefusedSerializer
from .serializers import (
    AvailabilitySerializer,
    LocationInputSerializer,
    LocationSerializer,
    MovementCodes,
    MovementInputSerializer,
    MovementSerializer,
    availability_data,
)
from .services import MovementInput, MovementOutcome, Outcome

MAX_CODES_PER_QUERY = 100


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


# Single-event answers: the one table from an outcome to an HTTP status.
SINGLE_EVENT_STATUS = {
    Outcome.CREATED: status.HTTP_201_CREATED,
    Outcome.DUPLICATE: status.HTTP_200_OK,
}


@extend_schema_view(
    list=extend_schema(
        summary="The stock ledger: the audit trail of every movement",
        description="Newest first (by when it was recorded), paginated.",
    ),
    retrieve=extend_schema(summary="One ledger entry"),
)
class MovementViewSet(
    ReadsFromReplica,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    read_scope = Scope.POST_STOCK_EVENTS
    serializer_class = MovementSerializer
    idempotency_reference = {"create": "reference"}  # Idempotency-Key: docs/api.md
    renderer_classes = STOCK_RENDERERS
    filterset_class = MovementFilter
    ordering_fields = ["recorded_at", "occurred_at"]

    def get_queryset(self):
        movements = selectors.movement_queryset()
        if getattr(self, "swagger_fake_view", False):
            return movements
        request = self.request
        bound = bound_channel_code(request)
        if bound is not None:
            # A channel's token reads its own entries: another channel's order
            # commitments, staff names and reasons are not its business.
            asked = request.query_params.get("channel")
            if asked:
                ensure_may_act_for_channel(request, asked)
            return movements.filter(channel__code=bound)
        if is_store_staff_only(request):
            return movements.filter(location__in=stores_of(request))
        return movements

    @extend_schema(
        summary="Record stock movements: one event, or a batch of up to 1,000",
        description=(
            "One object: 201 with the entry as stored (`status` `applied`, or "
            "`superseded` for a delta older than the latest count); 200 with the "
            "original entry when the same reference comes again with the same "
            "payload; 409 `reference_clash` when the reference was used for a "
            "different movement; 409 `movement_rejected` (the entry is stored as "
            "`rejected`) when it would move units out of a bucket that does not hold "
            "them. A JSON list: 200 with `results` in input order, each `created`, "
            "`duplicate` or `rejected` with `errors`; each item stands on its own."
        ),
        # The batch form (a JSON list) is added by inventory.schema.
        request=MovementInputSerializer,
        responses={
            200: OpenApiResponse(
                MOVEMENT_OR_BATCH,
                description="A batch's results; or, for one event sent again with "
                "the same payload, its original entry (a `Movement`).",
            ),
            201: MovementSerializer,
            400: OpenApiResponse(description="Field errors; nothing was written."),
            403: OpenApiResponse(description="The token acts for another channel."),
            409: OpenApiResponse(
                MovementRefusedSerializer, description="Reference clash, or rejected."
            ),
        },
    )
    def create(self, request: Request) -> Response:
        if isinstance(request.data, list):
            return self._create_batch(request, request.data)
        event = self._validated(request, request.data)
        (result,) = services.movements_record(
            movements=[event], actor=Actor.of_request(request)
        )
        if result.outcome == Outcome.REFUSED:  # pragma: no cover - internal types only
            raise InsufficientStock(result.refusal)
        body = MovementSerializer(result.movement).data
        # A refusal carries the entry as stored, for the integrator.
        if result.outcome == Outcome.REFERENCE_CLASH:
            raise ReferenceClash(movement=body)
        if result.movement.status == StockMovement.Status.REJECTED:
            raise MovementRejected(result.movement.status_reason, movement=body)
        return Response(body, status=SINGLE_EVENT_STATUS[result.outcome])

    def _validated(self, request: Request, payload: Any) -> MovementInput:
        incoming = MovementInputSerializer(data=with_bound_channel(request, payload))
        incoming.is_valid(raise_exception=True)
        event = MovementCodes([incoming.validated_data]).movement(
            incoming.validated_data
        )
        ensure_may_act_for_channel(request, event.channel.code)
        ensure_may_record_at(request, event.location)
        return event

    def _create_batch(self, request: Request, payload: list) -> Response:
        limit = settings.ONESTOCK_MAX_BATCH
        if not payload:
            raise serializers.ValidationError({"non_field_errors": ["Empty batch."]})
        if len(payload) > limit:
            raise serializers.ValidationError(
                {"non_field_errors": [f"At most {limit} movements in one batch."]}
            )
        results: list[dict[str, Any]] = []
        shaped: dict[int, dict[str, Any]] = {}
        # One serializer for every line, as a ListSerializer runs its child: each line
        # stands on its own, and validation keeps no state on the serializer.
        lines = MovementInputSerializer()
        for index, item in enumerate(payload):
            reference = item.get("reference") if isinstance(item, dict) else None
            results.append(
                {
                    "index": index,
                    "reference": reference if isinstance(reference, str) else None,
                    "movement": None,
                }
            )
            try:
                shaped[index] = lines.run_validation(with_bound_channel(request, item))
            except serializers.ValidationError as error:
                errors = serializers.as_serializer_error(error)
                results[index].update(status="rejected", errors=errors)
        codes = MovementCodes(list(shaped.values()))
        events: dict[int, MovementInput] = {}
        for index, validated in shaped.items():
            try:
                event = codes.movement(validated)
                ensure_may_act_for_channel(request, event.channel.code)
                ensure_may_record_at(request, event.location)
            except serializers.ValidationError as error:
                results[index].update(status="rejected", errors=error.detail)
                continue
            except PermissionRefused as refusal:
                field = (
                    "location"
                    if isinstance(refusal, LocationNotPermitted)
                    else "channel"
                )
                results[index].update(
                    status="rejected", errors={field: [refusal.message]}
                )
                continue
            events[index] = event
        outcomes = services.movements_record(
            movements=list(events.values()), actor=Actor.of_request(request)
        )
        stored = [result.movement for result in outcomes if result.movement]
        bodies = iter(MovementSerializer(stored, many=True).data)
        for index, result in zip(events, outcomes, strict=True):
            body = next(bodies) if result.movement else None
            results[index].update(_batch_line(result, body))
        return Response({"results": results}, status=status.HTTP_200_OK)


def _batch_line(result: MovementOutcome, body: dict | None) -> dict[str, Any]:
    if result.outcome == Outcome.REFERENCE_CLASH:
        return {
            "status": "rejected",
            "movement": body,
            "errors": {"reference": [ReferenceClash.message]},
        }
    if result.outcome == Outcome.REFUSED:  # pragma: no cover - internal types only
        return {"status": "rejected", "errors": {"quantity": [result.refusal]}}
    if result.movement.status == StockMovement.Status.REJECTED:
        # Created now or resent: the same answer, so a retry is not taken for success.
        return {
            "status": "rejected",
            "movement": body,
            "errors": {"quantity": [result.movement.status_reason]},
        }
    return {"status": result.outcome, "movement": body}


class AvailabilityQuerySerializer(FastSerializer, serializers.Serializer):
    sku = serializers.ListField(
        child=CodeField(),
        required=False,
        max_length=MAX_CODES_PER_QUERY,
        help_text="SKU codes (repeat the parameter); without it, every SKU that has "
        "stock records at the locations asked for.",
    )
    location = serializers.ListField(
        child=CodeField(),
        required=False,
        max_length=MAX_CODES_PER_QUERY,
        help_text="Location codes (repeat the parameter); without it, every location.",
    )
    channel = CodeField(
        required=False,
        help_text="Whose available-to-promise (its safety buffer); defaults to the "
        "token's own channel, else none (no buffer).",
    )


class AvailabilityView(ReadsFromReplica, GenericAPIView):
    read_scope = Scope.READ_AVAILABILITY
    serializer_class = AvailabilitySerializer
    renderer_classes = STOCK_RENDERERS
    filter_backends: list = []

    @extend_schema(
        summary="Available-to-promise per SKU and location, with every quantity",
        description=(
            "One row per SKU and location: `available = on_hand - committed - "
            "picked - reserved - damaged - quality_control`; `available_to_promise`: "
            "what the channel may promise, `max(0, available - safety_buffer)` less "
            "the units protected there for other channels (it may take its own "
            "protection), 0 at a location outside its network; the buffer is the "
            "SKU's own, else the channel's velocity buffer there, else the "
            "channel's (docs/channels.md). `status`: `under_review` while an open stock conflict "
            "exists there, `delayed` when the store's tills have not reported for "
            "longer than the configured threshold, else `confirmed`. A kit (asked "
            "for by its code: it has no stock records of its own, so a list by "
            "location alone leaves it out): the minimum over its components of "
            "floor(the component's figure ÷ units per kit), each component with "
            "its own buffer; its buckets and `safety_buffer` 0, `status` the least "
            "certain of its components', `components` their figures."
        ),
        parameters=[AvailabilityQuerySerializer],
        responses={
            200: AvailabilitySerializer(many=True),
            400: OpenApiResponse(description="Unknown or malformed codes, by field."),
        },
    )
    def get(self, request: Request) -> Response:
        wanted = stock_query(
            request, AvailabilityQuerySerializer, repeated=("sku", "location")
        )
        found, skus, locations = _records(request, wanted)
        if skus is not None:
            every_location = locations or list(found.locations.values())
            pairs = [(sku, loc) for sku in skus for loc in every_location]
            page = self.paginate_queryset(pairs)
            rows = selectors.availability_rows(
                pairs=page, channel=found.channel, sources=found.sources
            )
        else:
            page = self.paginate_queryset(
                selectors.balance_queryset(locations=locations)
            )
            rows = selectors.availability_rows_for_balances(
                balances=page, channel=found.channel, sources=found.sources
            )
        return self.get_paginated_response(availability_data(rows))


def _records(request: Request, wanted: dict[str, Any]):
    """The records behind the codes asked for (and the sources' health), read in one
    statement with only what availability needs; the SKUs and locations asked for in
    the order asked. Unknown codes are a 400 that names them."""
    channel_code = wanted.get("channel") or bound_channel_code(request)
    if channel_code:
        # Another channel's view (its buffer, its allocations) is its own.
        ensure_may_act_for_channel(request, channel_code)
    found = availability_records(
        sku_codes=set(wanted.get("sku", ())),
        location_codes=set(wanted.get("location", ())),
        channel_code=channel_code,
        every_location="sku" in wanted and "location" not in wanted,
    )
    errors: dict[str, list[str]] = {}
    skus = in_order_asked(wanted, "sku", "SKU", found.skus, errors)
    locations = in_order_asked(wanted, "location", "location", found.locations, errors)
    if channel_code and found.channel is None:
        errors["channel"] = [f"Unknown channel {channel_code!r}."]
    if errors:
        raise serializers.ValidationError(errors)
    return found, skus, locations
