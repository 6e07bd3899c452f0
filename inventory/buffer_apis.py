"""Buffers API: ``GET /api/v1/buffers/?channel=&sku=&location=``, the units a channel
keeps back at each SKU-location and where each comes from (``inventory.buffers``).
Thin: the query is checked here, the rows are read there.

Reading takes ``read_availability``; a token bound to a channel reads its own
channel's buffers (it need not name it), another's is a 403
``channel_not_permitted``, as for availability.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.models import Channel, Sku
from config.access import Scope, bound_channel_code, ensure_may_act_for_channel
from config.api import CodeField, in_order_asked, stock_query
from config.replicas import ReadsFromReplica, reading_alias

from .buffers import BufferSource, buffer_rows
from .models import Location
from .networks import network_locations
from .selectors import balance_queryset

MAX_CODES_PER_QUERY = 100


class BufferQuerySerializer(serializers.Serializer):
    channel = CodeField(
        required=False,
        help_text="Whose buffers (required, unless the token is bound to a channel: "
        "then its own).",
    )
    sku = serializers.ListField(
        child=CodeField(),
        required=False,
        max_length=MAX_CODES_PER_QUERY,
        help_text="SKU codes (repeat the parameter); without it, every SKU with a "
        "balance at the locations asked for.",
    )
    location = serializers.ListField(
        child=CodeField(),
        required=False,
        max_length=MAX_CODES_PER_QUERY,
        help_text="Location codes (repeat the parameter); without it, the locations "
        "of the channel's network.",
    )


class BufferSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="The channel's code.")
    sku = serializers.CharField(help_text="The SKU's code.")
    location = serializers.CharField(help_text="The location's code.")
    buffer = serializers.IntegerField(
        help_text="Units kept back from the channel's available-to-promise here."
    )
    source = serializers.ChoiceField(
        choices=BufferSource.choices,
        help_text="`sku`: the SKU's own buffer (it always wins); `velocity`: the "
        "channel's velocity buffer here (its policy is `velocity`); `channel`: the "
        "channel's own buffer.",
    )
    rate = serializers.FloatField(
        allow_null=True,
        help_text="Units a day sold on the channel here over SALES_RATE_DAYS, that "
        "the velocity buffer came from; null unless the source is `velocity`.",
    )
    computed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the velocity buffer was computed; null unless the source is "
        "`velocity`.",
    )


class BufferView(ReadsFromReplica, GenericAPIView):
    read_scope = Scope.READ_AVAILABILITY
    serializer_class = BufferSerializer
    filter_backends: list = []

    @extend_schema(
        summary="The buffer a channel keeps back at each SKU and location, and why",
        description=(
            "One row per SKU and location, paginated: the SKUs asked for (or every "
            "SKU with a balance) at the locations asked for (or the channel's "
            "network). `buffer` is what `available_to_promise` leaves out for the "
            "channel there: the SKU's own `safety_buffer` if set (`source` `sku`), "
            "else, under the channel's `velocity` policy, its velocity buffer there "
            "(`velocity`, with the `rate` of sale it came from and `computed_at`), "
            "else the channel's own `safety_buffer` (`channel`). 400 for a missing "
            "channel or unknown codes; a bound token reads only its own channel."
        ),
        parameters=[BufferQuerySerializer],
        responses={
            200: BufferSerializer(many=True),
            400: OpenApiResponse(description="Missing channel, or unknown codes."),
            403: OpenApiResponse(description="The token acts for another channel."),
        },
    )
    def get(self, request: Request) -> Response:
        wanted = stock_query(
            request, BufferQuerySerializer, repeated=("sku", "location")
        )
        channel, skus, locations = _records(request, wanted)
        if skus is not None:
            pairs = [(sku, place) for sku in skus for place in locations]
        else:
            pairs = balance_queryset(locations=locations).using(reading_alias())
            if not locations:
                pairs = pairs.none()
        page = self.paginate_queryset(pairs)
        if skus is None:
            page = [(balance.sku, balance.location) for balance in page]
        rows = buffer_rows(channel=channel, pairs=page)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


def _records(request: Request, wanted: dict[str, Any]):
    """The channel, the SKUs (None: not asked) and the locations, in the order asked,
    each once; unknown codes are a 400 that names them."""
    code = wanted.get("channel") or bound_channel_code(request)
    if not code:
        raise serializers.ValidationError(
            {"channel": ["Give the channel whose buffers to read."]}
        )
    ensure_may_act_for_channel(request, code)
    using = reading_alias()
    errors: dict[str, list[str]] = {}
    channel = Channel.objects.using(using).filter(code=code).first()
    if channel is None:
        errors["channel"] = [f"Unknown channel {code!r}."]
    skus = _in_order(wanted, "sku", "SKU", Sku.objects.using(using), errors)
    locations = _in_order(
        wanted, "location", "location", Location.objects.using(using), errors
    )
    if errors:
        raise serializers.ValidationError(errors)
    if locations is None:
        locations = network_locations(channel=channel)
    return channel, skus, locations


def _in_order(wanted, field, label, records, errors) -> list | None:
    found = records.in_bulk(set(wanted.get(field, ())), field_name="code")
    return in_order_asked(wanted, field, label, found, errors)
