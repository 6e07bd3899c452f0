"""``GET /api/v1/availability/network/``: a channel's availability of each SKU
across its network, with the sequence its webhooks and network feed carry. Sync's
rather than inventory's: the sums are inventory's (``inventory.network_selectors``),
but the sequence counts what the channels were told, which is sync's
(``sync.models.NetworkFigure``)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView

from catalog.models import Sku
from catalog.selectors import channels_by_code, skus_by_code
from config.access import Scope, bound_channel_code, ensure_may_act_for_channel
from config.api import CodeField, in_order_asked, stock_query
from config.fast_serializers import FastSerializer
from config.replicas import ReadsFromReplica
from inventory.apis import MAX_CODES_PER_QUERY
from inventory.renderers import STOCK_RENDERERS

from .network_selectors import sells
from .serializers import NetworkAvailabilitySerializer
from .services.network import network_figures_current


class NetworkAvailabilityQuerySerializer(FastSerializer, serializers.Serializer):
    sku = serializers.ListField(
        child=CodeField(),
        required=False,
        max_length=MAX_CODES_PER_QUERY,
        help_text="SKU codes (repeat the parameter); without it, every SKU, a page "
        "at a time in code order.",
    )
    channel = CodeField(
        required=False,
        help_text="Whose network; defaults to the token's own channel. Required "
        "otherwise.",
    )


class NetworkAvailabilityView(ReadsFromReplica, GenericAPIView):
    read_scope = Scope.READ_AVAILABILITY
    serializer_class = NetworkAvailabilitySerializer
    renderer_classes = STOCK_RENDERERS
    filter_backends: list = []

    @extend_schema(
        summary="Available-to-promise per SKU across a channel's network",
        description=(
            "One row per SKU: the sums over the locations the channel sells from "
            "(`sells_from`; none named: every active location) of each location's "
            "`available_to_promise` for that channel, `on_hand` and `available`; "
            "`locations`: how many have any available-to-promise; `status`: the "
            "least certain of theirs; `as_of`: the latest of theirs; `sequence`: "
            "moves whenever the total moves, as in the `network_availability."
            "changed` webhooks and the change feed's `?kind=network`. A kit's: "
            "the sums of its rows at each location (a kit is never made of parts "
            "from two locations; its `on_hand` 0), moving with its components'. A "
            "back-office system's channel, or a closed one, has no network "
            "availability (400)."
        ),
        parameters=[NetworkAvailabilityQuerySerializer],
        responses={
            200: NetworkAvailabilitySerializer(many=True),
            400: OpenApiResponse(description="Unknown or malformed codes, by field."),
        },
    )
    def get(self, request):
        wanted = stock_query(
            request, NetworkAvailabilityQuerySerializer, repeated=("sku",)
        )
        channel, skus = _records(request, wanted)
        page = self.paginate_queryset(skus)
        rows = network_figures_current(channel=channel, skus=page)
        return self.get_paginated_response(rows)


def _records(request, wanted: dict):
    """The channel and the SKUs asked for, in the order asked (each once), or every
    SKU in code order; unknown codes are a 400 that names them."""
    errors: dict[str, list[str]] = {}
    code = wanted.get("channel") or bound_channel_code(request)
    channel = None
    if not code:
        errors["channel"] = ["Required: whose network."]
    else:
        # Another channel's view (its buffers, its protections) is its own.
        ensure_may_act_for_channel(request, code)
        channel = channels_by_code(codes={code}).get(code)
        if channel is None:
            errors["channel"] = [f"Unknown channel {code!r}."]
        elif not sells(channel):
            what = "is closed" if not channel.is_active else "does not sell"
            errors["channel"] = [
                f"Channel {code!r} {what}: it has no network availability."
            ]
    skus = Sku.objects.only("id", "code", "safety_buffer", "is_kit").order_by("code")
    if "sku" in wanted:
        found = skus_by_code(codes=set(wanted["sku"]))
        skus = in_order_asked(wanted, "sku", "SKU", found, errors)
    if errors:
        raise serializers.ValidationError(errors)
    return channel, skus
