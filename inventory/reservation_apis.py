"""Reservations API: place a checkout's hold, read it, and move it along its state
machine (release, commit, fulfil, cancel). The rules live in
``inventory.services.reservations``; this module only translates."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.access import (
    Actor,
    Scope,
    bound_channel_code,
    ensure_may_act_for_channel,
    with_bound_channel,
)
from config.replicas import ReadsFromReplica

from . import selectors, services
from .filters import ReservationFilter
from .models import Reservation
from .renderers import STOCK_RENDERERS
from .reservation_serializers import (
    ReservationCodes,
    ReservationConflictSerializer,
    ReservationInputSerializer,
    ReservationSerializer,
    TransitionRefusedSerializer,
)

Status = Reservation.Status
# One serializer checks every cart, as a ListSerializer runs its child: validation
# keeps no state on it, and building one per request costs more than the check.
CART = ReservationInputSerializer()
TRANSITIONS = {"release", "commit", "fulfil", "cancel"}


def _transition_schema(summary: str, description: str):
    return extend_schema(
        summary=summary,
        description=description
        + " 409 with the current `status` (and the transitions it allows) when the "
        "state machine does not allow this one: nothing is moved twice. A hold past "
        "its expiry is `expired`: its release is written and the request refused.",
        request=None,
        responses={
            200: ReservationSerializer,
            404: OpenApiResponse(description="No such reservation for this token."),
            409: TransitionRefusedSerializer,
        },
    )


@extend_schema_view(
    list=extend_schema(
        summary="Reservations, newest first",
        description="A channel-bound token sees its own channel's only.",
    ),
    retrieve=extend_schema(summary="One reservation, its lines and its transitions"),
)
class ReservationViewSet(
    ReadsFromReplica,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    read_scope = Scope.RESERVE_AND_ORDER
    serializer_class = ReservationSerializer
    idempotency_reference = {"create": "reference"}  # Idempotency-Key: docs/api.md
    renderer_classes = STOCK_RENDERERS
    filterset_class = ReservationFilter
    ordering_fields = ["created_at", "expires_at"]

    def get_queryset(self):
        if self.action in TRANSITIONS:
            # The transition reads what it needs under its lock; the answer is read
            # afresh after it.
            queryset = Reservation.objects.all()
        else:
            queryset = selectors.reservation_queryset()
        bound = bound_channel_code(self.request)
        if bound is not None:
            queryset = queryset.filter(channel__code=bound)
        return queryset

    @extend_schema(
        summary="Hold stock for a checkout: every line, or none",
        description=(
            "201 with the reservation (`status` `active`, `expires_at`). Each line is "
            "checked against the channel's available-to-promise (its safety buffer "
            "kept back; holds past their expiry no longer count). 409 "
            "`insufficient_stock` with `shortages` when any line cannot be held: "
            "nothing is held. The same `reference` with the same lines again: 200 "
            "with the reservation it placed; with other lines: 409 `reference_clash`."
        ),
        request=ReservationInputSerializer,
        responses={
            200: ReservationSerializer,
            201: ReservationSerializer,
            400: OpenApiResponse(description="Field errors; nothing was held."),
            403: OpenApiResponse(description="The token acts for another channel."),
            409: ReservationConflictSerializer,
        },
    )
    def create(self, request: Request) -> Response:
        cart = CART.run_validation(with_bound_channel(request, request.data))
        if "channel" not in cart:
            raise serializers.ValidationError({"channel": ["This field is required."]})
        bound = bound_channel_code(request)
        if bound is None or bound == cart["channel"]:
            # The plain case in one server call; anything else reads the records and
            # is answered, or refused with its reasons, below.
            placed = _placed_from_codes(cart, request)
            if placed is not None:
                return Response(
                    ReservationSerializer(placed).data, status=status.HTTP_201_CREATED
                )
        records = selectors.checkout_records(
            channel_code=cart["channel"],
            sku_codes={line["sku"] for line in cart["lines"]},
            location_codes={line["location"] for line in cart["lines"]},
        )
        channel = records.channel
        if channel is None:
            raise serializers.ValidationError(
                {"channel": [f"Unknown channel {cart['channel']!r}."]}
            )
        ensure_may_act_for_channel(request, channel.code)
        codes = ReservationCodes(cart, skus=records.skus, locations=records.locations)
        reservation, placed = services.reservation_place(
            channel=channel,
            reference=cart["reference"],
            lines=codes.lines(),
            ttl_seconds=cart.get("ttl_seconds"),
            allow_future=cart.get("allow_future"),
            actor=Actor.of_request(request),
        )
        if placed:
            # Placed just now: the service hands back every row it wrote.
            return Response(
                ReservationSerializer(reservation).data, status=status.HTTP_201_CREATED
            )
        return self._answer(reservation, status.HTTP_200_OK)

    def _transition(self, request: Request, to_status: str) -> Response:
        reservation = self.get_object()
        services.reservation_transition(
            reservation_id=reservation.pk,
            to_status=to_status,
            actor=Actor.of_request(request),
        )
        return self._answer(reservation, status.HTTP_200_OK)

    def _answer(self, reservation: Reservation, code: int) -> Response:
        fresh = selectors.reservation_queryset().get(pk=reservation.pk)
        return Response(ReservationSerializer(fresh).data, status=code)

    @_transition_schema(
        "Release a hold: the checkout was abandoned",
        "`active` → `released`; the units are available again.",
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str) -> Response:
        return self._transition(request, Status.RELEASED)

    @_transition_schema(
        "Commit a hold: the order was placed",
        "`active` → `committed`; the units move from reserved to committed.",
    )
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk: str) -> Response:
        return self._transition(request, Status.COMMITTED)

    @_transition_schema(
        "Fulfil a commitment: the units left the location",
        "`committed` → `fulfilled`; the committed units leave on-hand.",
    )
    @action(detail=True, methods=["post"])
    def fulfil(self, request: Request, pk: str) -> Response:
        return self._transition(request, Status.FULFILLED)

    @_transition_schema(
        "Cancel a commitment: the order was cancelled before it left",
        "`committed` → `cancelled`; the units are available again.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._transition(request, Status.CANCELLED)


def _placed_from_codes(cart: dict, caller) -> Reservation | None:
    """A validated cart placed straight from its codes, or None (``services.
    reservation_place_by_codes``, the checkout's one fast path)."""
    return services.reservation_place_by_codes(
        channel_code=cart["channel"],
        reference=cart["reference"],
        lines=[
            (line["sku"], line["location"], line["quantity"]) for line in cart["lines"]
        ],
        ttl_seconds=cart.get("ttl_seconds"),
        allow_future=cart.get("allow_future"),
        actor=Actor.of_request(caller),
    )
