"""``GET /api/v1/availability/timeline/``: availability by date, what one channel may
promise of one SKU now and as dated supply lands, at one location or across the
channel's network (``inventory.timeline_selectors``; docs/supply.md). Read-only."""

from datetime import timedelta

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.selectors import channel_get, skus_by_code
from config.access import Scope, bound_channel_code, ensure_may_act_for_channel
from config.api import CodeField
from config.replicas import ReadsFromReplica

from .models import Supply
from .networks import not_in_network_message, outside_network
from .renderers import STOCK_RENDERERS
from .selectors import AvailabilityStatus, locations_by_code
from .timeline_selectors import (
    MAX_HORIZON_DAYS,
    availability_timeline,
    horizon,
    today_at,
)

QUERY_FIELDS = ("sku", "location", "channel", "until")


class TimelineQuerySerializer(serializers.Serializer):
    sku = CodeField(help_text="The SKU's code.")
    location = CodeField(
        required=False,
        help_text="The location's code; left out: the channel's whole network.",
    )
    channel = CodeField(
        required=False,
        help_text="Whose available-to-promise; defaults to the token's own channel. "
        "Required otherwise.",
    )
    until = serializers.DateField(
        required=False,
        help_text="The last date of supply shown (inclusive), today to "
        f"{MAX_HORIZON_DAYS} days ahead; default 90 days ahead.",
    )


class TimelineSupplySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Supply.Kind.choices)
    reference = serializers.CharField(
        help_text="The purchase order, or the transfer's ledger reference."
    )
    location = serializers.CharField(help_text="Where it is due.")
    expected_at = serializers.DateTimeField(
        allow_null=True, help_text="When it is due; null: undated."
    )
    outstanding = serializers.IntegerField(help_text="Units still to come.")
    promised = serializers.IntegerField(
        help_text="Units of open pre-orders and back-orders promised against it."
    )
    free = serializers.IntegerField(help_text="`outstanding - promised`, at least 0.")
    late = serializers.BooleanField(
        help_text="Expected before now and still open: it lands today."
    )


class TimelineEntrySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The location's local date.")
    free = serializers.IntegerField(help_text="Free units landing that day.")
    available_to_promise = serializers.IntegerField(
        help_text="What the channel may promise from that day: now's, plus every "
        "free unit landed up to then."
    )
    supply = TimelineSupplySerializer(many=True)


class UndatedIncomingSerializer(serializers.Serializer):
    units = serializers.IntegerField(
        source="undated_units",
        help_text="Incoming and in-transit units that no dated supply accounts for.",
    )
    supply = TimelineSupplySerializer(source="undated_supply", many=True)


class AvailabilityTimelineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    channel = serializers.CharField()
    location = serializers.CharField(
        allow_null=True, help_text="null: summed over the channel's network."
    )
    until = serializers.DateField()
    as_of = serializers.DateTimeField(help_text="When it was read.")
    available = serializers.IntegerField()
    available_to_promise = serializers.IntegerField(help_text="Now, on the shelf.")
    status = serializers.ChoiceField(choices=AvailabilityStatus.choices)
    timeline = TimelineEntrySerializer(source="entries", many=True)
    undated_incoming = UndatedIncomingSerializer(
        source="*", help_text="Never promisable: information only."
    )
    preorderable = serializers.IntegerField(
        help_text="Units a pre-order could take now: the free dated supply up to "
        "`until`, within the SKU's `future_promise_limit` less its open promises."
    )


class AvailabilityTimelineView(ReadsFromReplica, GenericAPIView):
    read_scope = Scope.READ_AVAILABILITY
    serializer_class = AvailabilityTimelineSerializer
    renderer_classes = STOCK_RENDERERS
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        summary="Availability by date: now, and as dated supply lands",
        description=(
            "For one SKU and one channel, at one `location` or (left out) across "
            "the channel's network: `available` and `available_to_promise` now "
            "(as `/api/v1/availability/`, or summed as `/api/v1/availability/"
            "network/`), then one `timeline` entry per date on which open dated "
            "supply (a purchase order due, a transfer on the road) lands, up to "
            "`until`: its supply, the free units (outstanding less open promises) "
            "and the cumulative `available_to_promise` then. Late supply lands "
            "today, flagged `late`. `undated_incoming` is never promisable. "
            "`preorderable`: what a pre-order could take now. Unknown codes, a "
            "location outside the channel's network or a bad `until` are a 400 "
            "by field."
        ),
        parameters=[TimelineQuerySerializer],
        responses={
            200: AvailabilityTimelineSerializer,
            400: OpenApiResponse(description="Unknown or malformed input, by field."),
        },
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        repeated = {
            name: ["Give one."]
            for name in QUERY_FIELDS
            if len(params.getlist(name)) > 1
        }
        if repeated:
            raise serializers.ValidationError(repeated)
        query = TimelineQuerySerializer(
            data={name: params[name] for name in QUERY_FIELDS if name in params}
        )
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        sku, channel, location = _records(request, wanted)
        today = today_at(location=location)
        until = horizon(today=today, until=wanted.get("until"))
        if until < today:
            raise serializers.ValidationError({"until": ["Must not be in the past."]})
        if until > today + timedelta(days=MAX_HORIZON_DAYS):
            raise serializers.ValidationError(
                {"until": [f"At most {MAX_HORIZON_DAYS} days ahead."]}
            )
        timeline = availability_timeline(
            sku=sku, channel=channel, location=location, until=until
        )
        return Response(self.get_serializer(timeline).data)


def _records(request: Request, wanted: dict):
    """The SKU, the channel and the location (None: the network) asked for. The
    channel is the token's own unless named, and a token bound to another refused
    (403); unknown codes, or a location the channel does not sell from, are a 400
    naming them."""
    errors: dict[str, list[str]] = {}
    code = wanted.get("channel") or bound_channel_code(request)
    channel = None
    if not code:
        errors["channel"] = ["Required: whose available-to-promise."]
    else:
        # Another channel's view (its buffers, its protections) is its own.
        ensure_may_act_for_channel(request, code)
        channel = channel_get(code=code)
        if channel is None:
            errors["channel"] = [f"Unknown channel {code!r}."]
    sku = skus_by_code(codes={wanted["sku"]}).get(wanted["sku"])
    if sku is None:
        errors["sku"] = [f"Unknown SKU {wanted['sku']!r}."]
    elif sku.is_kit:
        # A kit is sold from the shelf, never against supply: it has no dates.
        errors["sku"] = [
            f"{sku.code} is a kit: it is sold from the shelf, never against supply. "
            "Read its components' timelines, or its availability now."
        ]
    location = None
    if "location" in wanted:
        code = wanted["location"]
        location = locations_by_code(codes={code}).get(code)
        if location is None:
            errors["location"] = [f"Unknown location {code!r}."]
        elif channel is not None and outside_network(
            channel=channel, locations=[location]
        ):
            errors["location"] = [
                not_in_network_message(channel=channel, location=location)
            ]
    if errors:
        raise serializers.ValidationError(errors)
    return sku, channel, location
