"""The channels' API: ``PUT /api/v1/channels/{code}/`` creates or updates a channel
by code with the locations it sells from (``sells_from``), and the list and detail
show them. Inventory's rather than the catalogue's: a network is a list of
locations, which the catalogue does not know. The channel's own fields are the
catalogue's (its serializers and ``channel_upsert``), written in one transaction with
the network (``inventory.services.networks.channel_network_upsert``)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_view
from rest_framework import serializers

from catalog import serializers as catalog_serializers
from catalog.apis import upsert_schema
from catalog.filters import ChannelFilter
from config.access import Actor
from config.api import CodeField, UpsertByCodeViewSet

from .models import Location
from .network_selectors import channel_network_queryset, sells_from_codes
from .selectors import locations_by_code
from .services.networks import channel_network_upsert, closed_location_message

# A chain's whole estate, and then some: a longer list is a mistake.
MAX_NETWORK_LOCATIONS = 1000
SELLS_FROM_HELP = (
    "Codes of the locations the channel sells from: routing, its holds and its "
    "orders use only these, and network availability sums them. Empty: every "
    "active location. Left out: unchanged."
)


class ChannelInputSerializer(catalog_serializers.ChannelInputSerializer):
    """The catalogue's channel, and the locations it sells from. The same name as
    the catalogue's, so the schema's component (and generated clients) keep it."""

    sells_from = serializers.ListField(
        child=CodeField(),
        required=False,
        max_length=MAX_NETWORK_LOCATIONS,
        help_text=SELLS_FROM_HELP,
    )

    def validate_sells_from(self, codes: list[str]) -> list[Location]:
        """The locations, once each; unknown or closed codes are named, each in a
        message of its own, and nothing is written."""
        wanted = list(dict.fromkeys(codes))
        found = locations_by_code(codes=set(wanted))
        problems = []
        for code in wanted:
            location = found.get(code)
            if location is None:
                problems.append(f"Unknown location {code!r}.")
            elif not location.is_active:
                problems.append(closed_location_message(code))
        if problems:
            raise serializers.ValidationError(problems)
        return [found[code] for code in wanted]


class ChannelSerializer(catalog_serializers.ChannelSerializer):
    sells_from = serializers.SerializerMethodField(help_text=SELLS_FROM_HELP)

    class Meta(catalog_serializers.ChannelSerializer.Meta):
        fields = [*catalog_serializers.ChannelSerializer.Meta.fields, "sells_from"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_sells_from(self, channel) -> list[str]:
        return sells_from_codes(channel=channel)


@extend_schema_view(
    update=upsert_schema(ChannelInputSerializer, ChannelSerializer, "channel")
)
class ChannelViewSet(UpsertByCodeViewSet):
    serializer_class = ChannelSerializer
    input_serializer_class = ChannelInputSerializer
    filterset_class = ChannelFilter
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        return channel_network_queryset()

    def upsert_service(self, *, code: str, **fields: Any):
        """The channel and its network, as whoever sent the request."""
        return channel_network_upsert(
            code=code, actor=Actor.of_request(self.request), **fields
        )
