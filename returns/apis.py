"""Returns API: a channel announces a return before the parcel arrives, reads it with
its lines, grades and timeline, lists them, and cancels or closes one. Receiving and
grading happen on the store's screens. The rules live in ``returns.services``."""

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
from .filters import ReturnFilter
from .models import Return
from .serializers import (
    ReturnCancelSerializer,
    ReturnCloseSerializer,
    ReturnInputSerializer,
    ReturnSerializer,
)

REFUSALS = {
    200: ReturnSerializer,
    400: OpenApiResponse(description="Field errors; nothing was changed."),
    404: OpenApiResponse(description="No such return (or another channel's)."),
    409: OpenApiResponse(description="Not allowed in its status; nothing changed."),
}


@extend_schema_view(
    list=extend_schema(
        summary="Returns, newest first",
        description="Filter by channel bought through, status (repeatable), location, "
        "return number, order number, SKU, reason, `overdue` and created date "
        "(`since`, `until`). A channel-bound token sees its own channel's only.",
    ),
    retrieve=extend_schema(
        summary="One return: its lines, the grade of every unit and its timeline"
    ),
)
class ReturnViewSet(
    ReadsFromReplica,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    read_scope = Scope.RETURNS
    serializer_class = ReturnSerializer
    idempotency_reference = {"create": "reference"}  # Idempotency-Key: docs/api.md
    filterset_class = ReturnFilter
    ordering_fields = ["created_at", "received_at"]

    def get_queryset(self):
        queryset = selectors.return_queryset()
        bound = bound_channel_code(self.request)
        if bound is not None:
            queryset = queryset.filter(channel__code=bound)
        return queryset

    @extend_schema(
        summary="Announce a return: expected, incoming where it will arrive",
        description=(
            "The goods bought on `order` (or at a till, `till_receipt`) are on their "
            "way to `location`. Each line's units count as `incoming` there and "
            "never as available: they become sellable only when staff have "
            "received them, graded them resellable and said which shelf they are "
            "on. A line may not return more than was delivered and not yet "
            "returned or announced. 201 with the return; the same `reference` and "
            "body again: 200 with that return; another body: 409 "
            "`return_reference_clash`."
        ),
        request=ReturnInputSerializer,
        responses={
            200: ReturnSerializer,
            201: ReturnSerializer,
            400: OpenApiResponse(description="Field errors; nothing was written."),
            403: OpenApiResponse(description="The token acts for another channel."),
            409: OpenApiResponse(description="`return_reference_clash`."),
        },
    )
    def create(self, request: Request) -> Response:
        given = ReturnInputSerializer(data=with_bound_channel(request, request.data))
        given.is_valid(raise_exception=True)
        if "channel" not in given.validated_data:
            raise serializers.ValidationError({"channel": ["This field is required."]})
        ensure_may_act_for_channel(request, given.validated_data["channel"])
        found, created = services.return_announce(
            **given.announcement(), actor=Actor.of_request(request)
        )
        return self._answer(
            found, status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        summary="Cancel an announced return that will not come",
        description="Its units are no longer incoming and may be returned again. "
        "Only an `expected` return can be cancelled (409 otherwise).",
        request=ReturnCancelSerializer,
        responses=REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        found = self.get_object()
        given = ReturnCancelSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.return_cancel(
            return_id=found.pk,
            reason=given.validated_data["reason"],
            actor=Actor.of_request(request),
        )
        return self._answer(found)

    @extend_schema(
        summary="Close a graded return (the customer was refunded or exchanged)",
        description="Only a `graded` return can be closed (409 otherwise).",
        request=ReturnCloseSerializer,
        responses=REFUSALS,
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        found = self.get_object()
        given = ReturnCloseSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.return_close(
            return_id=found.pk,
            note=given.validated_data["note"],
            actor=Actor.of_request(request),
        )
        return self._answer(found)

    def _answer(self, found: Return, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.return_queryset().get(pk=found.pk)
        return Response(ReturnSerializer(fresh).data, status=code)
