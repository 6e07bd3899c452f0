"""Orders API: place an order, read it with its timeline, and move it along (pick,
ready, ship, collect, cancel, close); and the return-to-stock tasks staff confirm.
The rules live in ``orders.services``; this module only translates."""

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
from .filters import OrderFilter, ReturnToStockFilter
from .models import Order
from .serializers import (
    CancelSerializer,
    LinesActionSerializer,
    OrderConflictSerializer,
    OrderInputSerializer,
    OrderRefusedSerializer,
    OrderSerializer,
    RequestReferenceSerializer,
    ReturnToStockTaskSerializer,
    ShipSerializer,
    order_arguments,
)

REFUSALS = {
    200: OrderSerializer,
    400: OpenApiResponse(description="Field errors; nothing was changed."),
    404: OpenApiResponse(description="No such order (or another channel's)."),
    409: OrderRefusedSerializer,
}


@extend_schema_view(
    list=extend_schema(
        summary="Orders, newest first",
        description="Filter by channel, status (repeatable), fulfilment method, "
        "location (fulfilled or collected there) and placed date (`since`, `until`). "
        "A channel-bound token sees its own channel's only.",
    ),
    retrieve=extend_schema(
        summary="One order: its lines, fulfilments, routing decision and timeline"
    ),
)
class OrderViewSet(
    ReadsFromReplica,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    read_scope = Scope.RESERVE_AND_ORDER
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    ordering_fields = ["placed_at", "promised_by"]

    def get_queryset(self):
        queryset = selectors.order_queryset()
        bound = bound_channel_code(self.request)
        if bound is not None:
            queryset = queryset.filter(channel__code=bound)
        return queryset

    @extend_schema(
        summary="Place an order: every unit committed, or none",
        description=(
            "From a checkout's hold (`reservation`: its lines become the order's, "
            "at the locations they were held) or with `lines`, reserved and committed "
            "in one step. A line without a location is routed (ship methods: "
            "`routing` on the order says which location won and why) or fulfilled at "
            "the `pickup_location`. 201 with the order; the same `reference` and "
            "body again: 200 with that order; another body: 409 `reference_clash`. "
            "409 `insufficient_stock` with `shortages` when any unit cannot be "
            "promised (a short pickup also names the `nearest_stores` that could "
            "fill it): nothing is committed."
        ),
        request=OrderInputSerializer,
        responses={
            200: OrderSerializer,
            201: OrderSerializer,
            400: OpenApiResponse(description="Field errors; nothing was written."),
            403: OpenApiResponse(description="The token acts for another channel."),
            404: OpenApiResponse(
                description="No such `reservation` for the channel (`field` names it)."
            ),
            409: OrderConflictSerializer,
        },
    )
    def create(self, request: Request) -> Response:
        given = OrderInputSerializer(data=with_bound_channel(request, request.data))
        given.is_valid(raise_exception=True)
        if "channel" not in given.validated_data:
            raise serializers.ValidationError({"channel": ["This field is required."]})
        ensure_may_act_for_channel(request, given.validated_data["channel"])
        order, placed = services.order_place(
            **order_arguments(given.validated_data), actor=Actor.of_request(request)
        )
        return self._answer(
            order, status.HTTP_201_CREATED if placed else status.HTTP_200_OK
        )

    def _answer(self, order: Order, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.order_queryset().get(pk=order.pk)
        return Response(OrderSerializer(fresh).data, status=code)

    def _lines_action(self, request: Request, given_class, act) -> Response:
        order = self.get_object()
        given = given_class(data=request.data)
        given.is_valid(raise_exception=True)
        actor = Actor.of_request(
            request, request_reference=given.validated_data.get("request_reference", "")
        )
        act(order, given, actor)
        return self._answer(order)

    @extend_schema(
        summary="Cancel the whole order, or some units of some lines",
        description=(
            "`reason` is required; leave out `lines` to cancel every open unit. Units "
            "still on the shelf are available again at once. Units already picked "
            "stay out of availability: a return-to-stock task is opened, and they "
            "count again only when staff confirm the put-away."
        ),
        request=CancelSerializer,
        responses=REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._lines_action(
            request,
            CancelSerializer,
            lambda order, given, actor: services.order_cancel(
                order_id=order.pk,
                lines=given.line_quantities(),
                reason=given.validated_data["reason"],
                actor=actor,
            ),
        )

    @extend_schema(
        summary="Ship units: they left with the carrier",
        description="Leave out `lines` to ship every open unit. From the pickup-hold "
        "area first, then the shelf; on-hand goes down. A pickup order is collected, "
        "not shipped (409).",
        request=ShipSerializer,
        responses=REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def ship(self, request: Request, pk: str) -> Response:
        return self._lines_action(
            request,
            ShipSerializer,
            lambda order, given, actor: services.order_ship(
                order_id=order.pk,
                lines=given.line_quantities(),
                actor=actor,
                carrier=given.validated_data["carrier"],
                tracking_reference=given.validated_data["tracking_reference"],
            ),
        )

    @extend_schema(
        summary="Pick units into the pickup-hold area",
        description="Leave out `lines` to pick every unit still on the shelf. Picked "
        "units stay the order's and off the shelf.",
        request=LinesActionSerializer,
        responses=REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def pick(self, request: Request, pk: str) -> Response:
        return self._lines_action(
            request,
            LinesActionSerializer,
            lambda order, given, actor: services.order_pick(
                order_id=order.pk, lines=given.line_quantities(), actor=actor
            ),
        )

    @extend_schema(
        summary="Mark the order ready: every open unit is picked",
        request=RequestReferenceSerializer,
        responses=REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def ready(self, request: Request, pk: str) -> Response:
        return self._lines_action(
            request,
            RequestReferenceSerializer,
            lambda order, given, actor: services.order_mark_ready(
                order_id=order.pk, actor=actor
            ),
        )

    @extend_schema(
        summary="The customer collected a ready pickup order",
        request=RequestReferenceSerializer,
        responses=REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def collect(self, request: Request, pk: str) -> Response:
        return self._lines_action(
            request,
            RequestReferenceSerializer,
            lambda order, given, actor: services.order_collect(
                order_id=order.pk, actor=actor
            ),
        )

    @extend_schema(
        summary="Close a shipped or collected order",
        request=RequestReferenceSerializer,
        responses=REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        return self._lines_action(
            request,
            RequestReferenceSerializer,
            lambda order, given, actor: services.order_close(
                order_id=order.pk, actor=actor
            ),
        )


@extend_schema_view(
    list=extend_schema(
        summary="Return-to-stock tasks: picked units waiting to go back on the shelf",
        description="Filter by `location`, `status` and `order`.",
    ),
    retrieve=extend_schema(summary="One return-to-stock task"),
)
class ReturnToStockTaskViewSet(
    ReadsFromReplica,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    read_scope = Scope.RESERVE_AND_ORDER
    serializer_class = ReturnToStockTaskSerializer
    filterset_class = ReturnToStockFilter
    ordering_fields = ["created_at"]

    def get_queryset(self):
        queryset = selectors.return_to_stock_queryset()
        bound = bound_channel_code(self.request)
        if bound is not None:
            queryset = queryset.filter(order__channel__code=bound)
        return queryset

    @extend_schema(
        summary="Confirm the units are back on the shelf",
        description="Only now are they available again. Confirming twice changes "
        "nothing.",
        request=None,
        responses={200: ReturnToStockTaskSerializer, 404: OpenApiResponse()},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        task = self.get_object()
        services.return_to_stock_confirm(
            task_id=task.pk, actor=Actor.of_request(request)
        )
        fresh = selectors.return_to_stock_queryset().get(pk=task.pk)
        return Response(ReturnToStockTaskSerializer(fresh).data)
