"""Pickup's API: a customer's order moved to another pickup store
(``POST /api/v1/orders/{id}/change-pickup-location/``). The rules live in
``pickup.services``; this module only translates."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.access import Actor, Scope, bound_channel_code
from config.api import CodeField, StrictCharField, StrictInputSerializer
from config.errors import NotFound
from inventory.models import Location
from orders.models import Order
from orders.selectors import order_queryset
from orders.serializers import OrderSerializer, OrderShortageSerializer

from . import services

# An id no order can have (a bigint column): not found, without asking the database.
BIGGEST_ID = 2**63 - 1


class ChangePickupLocationSerializer(StrictInputSerializer):
    pickup_location = CodeField(
        help_text="The store the customer collects at now: it must hand over pickups "
        "and be in the order's channel's network."
    )
    request_reference = StrictCharField(
        max_length=100,
        required=False,
        help_text="Your key for this request: the same key and body again changes "
        "nothing (200); another body under it is a 409.",
    )


class NearestStoreSerializer(serializers.Serializer):
    location = serializers.CharField(help_text="The store's code.")
    distance_km = serializers.FloatField(
        allow_null=True, help_text="From the store asked for; null when unknown."
    )


class PickupLocationRefusedSerializer(serializers.Serializer):
    """A 409 from changing an order's pickup store."""

    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`order_transition_refused` (not a pickup or curbside order, or "
        "past changing: with `status`), `pickup_location_change_refused` (units wait "
        "for a delivery, a decision or a transfer: settle them first), "
        "`insufficient_stock` (the new store lacks units and no transfer lane leads "
        "there from the old one: `shortages` and `nearest_stores`), "
        "`request_reference_clash`."
    )
    status = serializers.CharField(required=False, help_text="The order's status.")
    allowed = serializers.ListField(child=serializers.CharField(), required=False)
    shortages = OrderShortageSerializer(many=True, required=False)
    nearest_stores = NearestStoreSerializer(
        many=True,
        required=False,
        help_text="The stores nearest the one asked for that could fill every open "
        "unit, nearest first.",
    )

    class Meta:
        ref_name = "PickupLocationRefused"


class ChangePickupLocationView(APIView):
    idempotency_reference = "request_reference"  # Idempotency-Key: docs/api.md
    # Orders are read and written with the one scope (orders.apis.OrderViewSet).
    read_scope = Scope.RESERVE_AND_ORDER

    @extend_schema(
        operation_id="orders_change_pickup_location",
        summary="The customer collects at another store",
        description=(
            "For a pickup or curbside order not yet collected. Each open unit is set "
            "aside at the new store if it has one to spare (its walk-in units "
            "included) and given up at the old store: released from its shelf, or, "
            "if already picked, put back there through a return-to-stock task. What "
            "the new store lacks comes from the old store along a transfer lane "
            "(`TransferRoute`): the line holds those units as `short_quantity` until "
            "the transfer is received. Every line moves to the new store, "
            "`promised_by` is dated again (after the lane's lead time when units "
            "travel), a ready order is back in progress, the store's pickup task "
            "starts again there, the customer is emailed, and the timeline gets one "
            "`pickup_location_changed` entry. The same `request_reference` and body "
            "again: 200, nothing changes. 400 on `pickup_location` for an unknown "
            "code, the order's own store, a store that hands over no pickups or one "
            "outside the channel's network; 409 as `code` says. Nothing is changed "
            "by a refusal."
        ),
        request=ChangePickupLocationSerializer,
        responses={
            200: OrderSerializer,
            400: OpenApiResponse(description="Field errors; nothing was changed."),
            404: OpenApiResponse(description="No such order (or another channel's)."),
            409: PickupLocationRefusedSerializer,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        order_id = self._order(request, pk)
        given = ChangePickupLocationSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        code = given.validated_data["pickup_location"]
        store = Location.objects.filter(code=code).first()
        if store is None:
            raise serializers.ValidationError(
                {"pickup_location": [f"Unknown location {code!r}."]}
            )
        services.pickup_location_change(
            order_id=order_id,
            pickup_location=store,
            actor=Actor.of_request(
                request,
                request_reference=given.validated_data.get("request_reference", ""),
            ),
        )
        fresh = order_queryset().get(pk=order_id)
        return Response(OrderSerializer(fresh).data)

    def _order(self, request: Request, pk: int) -> int:
        """The order's id, as the orders API finds it: a channel's token reaches its
        own channel's orders only; any other is not found."""
        orders = Order.objects.filter(pk=pk)
        bound = bound_channel_code(request)
        if bound is not None:
            orders = orders.filter(channel__code=bound)
        found = (
            orders.values_list("pk", flat=True).first() if pk <= BIGGEST_ID else None
        )
        if found is None:
            raise NotFound(f"No order {pk}.")
        return found
