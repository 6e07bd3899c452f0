"""Orders API: place an order, read it with its timeline, and move it along (pick,
ready, ship, collect, cancel, close); a packer's units not found or damaged, and
the decision on those no location could take (``report-short``,
``packing-problems/{id}/decide``); and the return-to-stock tasks staff confirm.
The rules live in ``orders.services``; this module only translates."""

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
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
from config.errors import NotFound
from config.replicas import ReadsFromReplica

from . import selectors, services
from .filters import OrderFilter, ReturnToStockFilter
from .models import Order, PackingProblem
from .packing_serializers import DecideSerializer, ReportShortSerializer
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
from .services import packing, packing_decisions

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
    # Idempotency-Key (docs/api.md): the order's reference, else the action's.
    idempotency_reference = {"create": "reference", "*": "request_reference"}
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
        summary="A packer could not find units of a line, or found them damaged",
        description=(
            "For a shipped order (`ship`, `ship_from_store`, `local_delivery`; a "
            "pickup's are reported on its pickup task: 409 `packing_refused`), on "
            "units still on the shelf. In one step: the ledger corrects the shelf "
            "(not found: on-hand −q; damaged: damaged +q), a packing problem is "
            "recorded (units not found open an `item_not_found` case), and the "
            "units are re-routed to the next best location that can fill them "
            "alone, routed as placing routes (a new line committed there, the old "
            "line's units cancelled as served, a `rerouted` timeline entry with the "
            "decision). If none can, the problem stays `open` for a decision "
            "(`packing-problems/{id}/decide/`); its `routing` says why. 200 with the "
            "order: `packing_problems` shows it. 400 for fields (a `quantity` over "
            "the units on the shelf included); nothing is written on any refusal."
        ),
        request=ReportShortSerializer,
        responses=REFUSALS,
    )
    @action(detail=True, methods=["post"], url_path="report-short")
    def report_short(self, request: Request, pk: str) -> Response:
        return self._lines_action(
            request,
            ReportShortSerializer,
            lambda order, given, actor: packing.packing_report_short(
                order_id=order.pk,
                line_id=given.validated_data["line"],
                quantity=given.validated_data["quantity"],
                condition=given.validated_data["condition"],
                note=given.validated_data["note"],
                actor=actor,
            ),
        )

    @extend_schema(
        summary="Decide what becomes of units a packer could not find",
        description=(
            "On an `open` packing problem of this order: `ship_later` (a follow-up "
            "order to the same address for those units, routed; 409 "
            "`insufficient_stock` if no location can ship them), `substitute` with "
            "`substitute` and `customer_answer` (`accepted`: a line of it added at "
            "`location`, or routed, and the missing units cancelled as served; "
            "`declined`: they are cancelled), or `cancel`. 200 with the order; 409 "
            "`packing_problem_transition_refused` when it is decided already."
        ),
        request=DecideSerializer,
        responses=REFUSALS,
        parameters=[
            OpenApiParameter(
                "problem_id",
                int,
                OpenApiParameter.PATH,
                description="The packing problem's id (the order's "
                "`packing_problems`).",
            )
        ],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"packing-problems/(?P<problem_id>[0-9]{1,18})/decide",
    )
    def decide(self, request: Request, pk: str, problem_id: str) -> Response:
        def act(order: Order, given: DecideSerializer, actor: Actor) -> None:
            if not PackingProblem.objects.filter(pk=problem_id, order=order).exists():
                raise NotFound(f"No packing problem {problem_id} on this order.")
            decision = given.validated_data["decision"]
            if decision == PackingProblem.Resolution.SUBSTITUTE:
                found = given.records()
                packing_decisions.packing_problem_substitute(
                    problem_id=int(problem_id),
                    actor=actor,
                    substitute=found["substitute"],
                    customer_answer=given.validated_data["customer_answer"],
                    location=found.get("location"),
                )
            elif decision == PackingProblem.Resolution.SHIP_LATER:
                packing_decisions.packing_problem_ship_later(
                    problem_id=int(problem_id), actor=actor
                )
            else:
                packing_decisions.packing_problem_cancel(
                    problem_id=int(problem_id), actor=actor
                )

        return self._lines_action(request, DecideSerializer, act)

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
