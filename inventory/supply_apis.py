"""Future supply API: the supply on its way (``GET /api/v1/supply/``), and what a buyer
or the ERP decides about a purchase order (``POST /api/v1/supply/{reference}/
reschedule/`` and ``…/call-off/``). The rules are ``inventory.services.supply_calls``;
this module only translates.

Who may: reading takes ``post_stock_events`` (the ledger read back); deciding takes it
too, for a token or a manager (a store's staff do not move a buyer's orders). A token
bound to a channel reads and decides only the supply its channel announced; anyone
else names the ``channel`` when two sources use the same reference.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Channel
from catalog.selectors import channels_by_code
from config.access import (
    Actor,
    Scope,
    bound_channel_code,
    ensure_may_act_for_channel,
    is_store_staff_only,
)
from config.api import CodeField, StrictCharField, StrictInputSerializer
from config.replicas import ReadsFromReplica

from .models import Supply, SupplyEvent, promised_units
from .serializers import stated_moment
from .services.supply_calls import supply_call_off, supply_reschedule


class SupplyEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupplyEvent
        fields = ["action", "from_status", "to_status", "actor", "note", "detail", "at"]


class SupplySerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    from_location = serializers.CharField(
        source="from_location.code", allow_null=True, default=None
    )
    outstanding = serializers.IntegerField(help_text="Units still to come.")
    promised = serializers.IntegerField(
        help_text="Units pre-ordered against it, waiting for it."
    )
    late = serializers.SerializerMethodField(
        help_text="Open, and due before now: not received in time."
    )
    events = SupplyEventSerializer(many=True, read_only=True)

    class Meta:
        model = Supply
        fields = [
            "id",
            "kind",
            "reference",
            "channel",
            "sku",
            "location",
            "from_location",
            "expected_at",
            "quantity",
            "received",
            "outstanding",
            "promised",
            "status",
            "late",
            "created_at",
            "closed_at",
            "closed_by",
            "events",
        ]

    def get_late(self, supply: Supply) -> bool:
        return bool(
            supply.status == Supply.Status.OPEN
            and supply.expected_at is not None
            and supply.expected_at < timezone.now()
        )


class SupplyFilter(StrictInputSerializer):
    sku = CodeField(required=False)
    location = CodeField(required=False)
    reference = StrictCharField(max_length=100, required=False)
    status = serializers.ChoiceField(choices=Supply.Status.choices, required=False)


class RescheduleSerializer(StrictInputSerializer):
    expected_at = StrictCharField(
        max_length=40,
        help_text="When the purchase order's units are due now: ISO 8601 with a UTC "
        "offset, e.g. 2027-01-14T09:00:00Z.",
    )

    def validate_expected_at(self, raw: str):
        return stated_moment(raw)

    channel = CodeField(
        required=False,
        help_text="The source that announced it; defaults to the token's own "
        "channel. Needed only when two sources use the reference.",
    )
    note = StrictCharField(max_length=500, required=False, allow_blank=True)


class CallOffSerializer(StrictInputSerializer):
    reason = StrictCharField(max_length=200, help_text="Why it will not come.")
    channel = CodeField(required=False, help_text="As for a reschedule.")


class SupplyDecisionSerializer(serializers.Serializer):
    reference = serializers.CharField()
    lines = SupplySerializer(many=True)


def supply_queryset():
    return (
        Supply.objects.select_related("channel", "sku", "location", "from_location")
        .prefetch_related("events")
        .annotate(promised=promised_units())
        .order_by("expected_at", "id")
    )


class SupplyListView(ReadsFromReplica, ListAPIView):
    read_scope = Scope.POST_STOCK_EVENTS
    serializer_class = SupplySerializer
    filter_backends: list = []

    def get_queryset(self):
        supplies = supply_queryset()
        if getattr(self, "swagger_fake_view", False):
            return supplies
        # The list's own paging parameters are the paginator's.
        params = self.request.query_params.dict()
        for paging in ("page", "page_size"):
            params.pop(paging, None)
        asked = SupplyFilter(data=params)
        asked.is_valid(raise_exception=True)
        wanted = {
            "sku__code": asked.validated_data.get("sku"),
            "location__code": asked.validated_data.get("location"),
            "reference": asked.validated_data.get("reference"),
            "status": asked.validated_data.get("status"),
            "channel__code": bound_channel_code(self.request),
        }
        return supplies.filter(**{k: v for k, v in wanted.items() if v is not None})

    @extend_schema(
        summary="Supply on its way: purchase orders and transfers, dated",
        description=(
            "Every expected receipt and transfer in transit (a bound token: the ones "
            "its channel announced), due date first, with what has come, what is "
            "still to come, what is pre-ordered against it and whether it is late. "
            "Filters: `sku`, `location`, `reference`, `status` (`open`, `received`, "
            "`called_off`). See docs/supply.md."
        ),
        parameters=[SupplyFilter],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class _SupplyDecision(GenericAPIView):
    read_scope = Scope.POST_STOCK_EVENTS
    write_scope = Scope.POST_STOCK_EVENTS
    filter_backends: list = []
    pagination_class = None
    input_serializer: type[serializers.Serializer]

    def decide(self, request: Request, reference: str):
        if is_store_staff_only(request):
            raise PermissionDenied(
                "A purchase order's date is the buyer's: ask a manager, or the ERP."
            )
        incoming = self.input_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        asked = dict(incoming.validated_data)
        named = asked.pop("channel", None)
        if named is not None:
            ensure_may_act_for_channel(request, named)
        code = bound_channel_code(request) or named
        channel = None
        if code is not None:
            channel = channels_by_code(codes={code}).get(code)
            if channel is None:
                raise serializers.ValidationError(
                    {"channel": [f"Unknown channel {code!r}."]}
                )
        supplies = self.call(
            reference=reference,
            channel=channel,
            actor=Actor.of_request(request),
            **asked,
        )
        rows = supply_queryset().filter(pk__in=[supply.pk for supply in supplies])
        return Response(
            SupplyDecisionSerializer({"reference": reference, "lines": rows}).data
        )

    def call(self, *, reference: str, channel: Channel | None, actor: Actor, **asked):
        raise NotImplementedError


DECISION_ANSWERS = {
    200: SupplyDecisionSerializer,
    400: OpenApiResponse(description="Field errors; nothing was changed."),
    403: OpenApiResponse(description="A store's staff, or another channel's token."),
    404: OpenApiResponse(description="No such purchase order on its way."),
}


class SupplyRescheduleView(_SupplyDecision):
    input_serializer = RescheduleSerializer

    @extend_schema(
        summary="Reschedule a purchase order: every open line due on a new date",
        description=(
            "Moves the date of every line of the purchase order still on its way; "
            "quantities never change. The same date again changes nothing. Recorded "
            "on each line's timeline (`events`). Pre-orders promised against it are "
            "laid again over the supply on its way, oldest first: their orders' "
            "timelines show the new promise date (`promise_date_changed`), and units "
            "no supply covers any more open a `supply_delayed` case."
        ),
        request=RescheduleSerializer,
        responses=DECISION_ANSWERS,
    )
    def post(self, request: Request, reference: str) -> Response:
        return self.decide(request, reference)

    def call(self, **asked):
        return supply_reschedule(**asked)


class SupplyCallOffView(_SupplyDecision):
    input_serializer = CallOffSerializer

    @extend_schema(
        summary="Call off a purchase order: what has not come will not come",
        description=(
            "Every open line is called off: its outstanding units leave `incoming` "
            "(a `supply_called_off` ledger entry), and the pre-orders promised against "
            "it move to the next supply on its way or, with none, open a "
            "`supply_delayed` case for a person. Called off already: answered as it "
            "stands."
        ),
        request=CallOffSerializer,
        responses=DECISION_ANSWERS,
    )
    def post(self, request: Request, reference: str) -> Response:
        return self.decide(request, reference)

    def call(self, **asked):
        return supply_call_off(**asked)
