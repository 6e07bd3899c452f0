"""The shapes of a checkout's hold under /api/v1/reservations/: the cart asked for
(ReservationInputSerializer, its codes resolved by ReservationCodes), the hold as
stored with its lines, the kits it took and its history (ReservationSerializer: a
pre-order's line says how many of its units wait for supply and when they are due),
and the 409s a hold or a transition answers."""

from typing import Any

from rest_framework import serializers

from catalog.models import Sku
from config.api import (
    CodeField,
    StrictBooleanField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from config.fast_serializers import FastSerializer

from .models import (
    Location,
    Reservation,
    ReservationKit,
    ReservationLine,
    ReservationTransition,
)
from .movements import MAX_MOVEMENT_QUANTITY
from .serializers import REFERENCE_VALIDATOR
from .services import ReservationLineInput
from .services.reservations import MAX_LINES, MAX_TTL_SECONDS, MIN_TTL_SECONDS


class ReservationLineInputSerializer(StrictInputSerializer):
    sku = CodeField(help_text="SKU code.")
    location = CodeField(help_text="Location code.")
    quantity = StrictIntegerField(min_value=1, max_value=MAX_MOVEMENT_QUANTITY)


class ReservationInputSerializer(FastSerializer, StrictInputSerializer):
    """A checkout's cart. Codes are resolved afterwards (``ReservationCodes``). Fast
    (``config.fast_serializers``): it is checked on the flash sale's path."""

    reference = StrictCharField(
        max_length=100,
        trim_whitespace=False,
        validators=[REFERENCE_VALIDATOR],
        help_text="The checkout's own key (a cart or order id), unique per channel: "
        "sending it again answers with the reservation it placed.",
    )
    channel = CodeField(
        required=False,
        help_text="The selling channel; defaults to the token's own channel.",
    )
    ttl_seconds = StrictIntegerField(
        min_value=MIN_TTL_SECONDS,
        max_value=MAX_TTL_SECONDS,
        required=False,
        help_text="How long to hold; defaults to the channel's reservation TTL.",
    )
    lines = ReservationLineInputSerializer(
        many=True, allow_empty=False, max_length=MAX_LINES
    )
    allow_future = StrictBooleanField(
        required=False,
        help_text="A pre-order: what the shelf cannot cover is promised against the "
        "earliest dated supply (never beyond the SKU's future_promise_limit). "
        "Defaults to the channel's allow_future_by_default.",
    )


class ReservationCodes:
    """A cart's lines with the records behind their codes (read beforehand, with the
    channel, by ``selectors.checkout_records``); unknown codes are field errors in the
    cart's shape."""

    def __init__(
        self,
        cart: dict[str, Any],
        *,
        skus: dict[str, Sku],
        locations: dict[str, Location],
    ) -> None:
        self.cart = cart
        self.skus = skus
        self.locations = locations

    def lines(self) -> list[ReservationLineInput]:
        errors: list[dict[str, list[str]]] = []
        for line in self.cart["lines"]:
            problems = {}
            if line["sku"] not in self.skus:
                problems["sku"] = [f"Unknown SKU {line['sku']!r}."]
            if line["location"] not in self.locations:
                problems["location"] = [f"Unknown location {line['location']!r}."]
            errors.append(problems)
        if any(errors):
            raise serializers.ValidationError({"lines": errors})
        return [
            ReservationLineInput(
                self.skus[line["sku"]],
                self.locations[line["location"]],
                line["quantity"],
            )
            for line in self.cart["lines"]
        ]


class ReservationLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    promised_from = serializers.ChoiceField(
        choices=["shelf", "supply"],
        read_only=True,
        help_text="`supply` while some units wait for dated supply (a pre-order).",
    )
    future_quantity = serializers.IntegerField(
        read_only=True, help_text="Units promised against supply, not on the shelf."
    )
    expected_at = serializers.DateTimeField(
        source="supply_expected_at",
        allow_null=True,
        read_only=True,
        help_text="The promise date of the units waiting for supply.",
    )

    class Meta:
        model = ReservationLine
        fields = [
            "sku",
            "location",
            "quantity",
            "promised_from",
            "future_quantity",
            "expected_at",
        ]


class KitPartSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Units of it in one kit.")


class ReservationKitSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    components = KitPartSerializer(
        many=True,
        help_text="What one kit was made of when the hold took it; its units are "
        "on the hold's `lines` (summed with any units of the same SKU asked for "
        "alone).",
    )

    class Meta:
        model = ReservationKit
        fields = ["sku", "location", "quantity", "components"]


class ReservationTransitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReservationTransition
        fields = ["from_status", "to_status", "actor", "at"]


class ReservationSerializer(FastSerializer, serializers.ModelSerializer):
    """A hold as stored, with its lines and its history. Fast
    (``config.fast_serializers``): it is the answer on the flash sale's path."""

    channel = serializers.CharField(source="channel.code")
    status = serializers.ChoiceField(
        source="current_status",
        choices=Reservation.Status.choices,
        read_only=True,
        help_text="`expired` as soon as `expires_at` passes, swept or not.",
    )
    # Read once each (``Reservation.held_lines`` and ``history``): prefetched by the
    # selectors, or handed over by the service that has just written them.
    lines = ReservationLineSerializer(many=True, source="held_lines")
    kits = ReservationKitSerializer(
        many=True,
        source="held_kits",
        help_text="The kits the cart named, each held as its components' units on "
        "`lines`; empty when it named none.",
    )
    transitions = ReservationTransitionSerializer(many=True, source="history")

    class Meta:
        model = Reservation
        fields = [
            "id",
            "reference",
            "channel",
            "status",
            "ttl_seconds",
            "expires_at",
            "created_at",
            "updated_at",
            "created_by",
            "lines",
            "kits",
            "transitions",
        ]


class ShortageSerializer(serializers.Serializer):
    """One line that could not be promised (a hold's or an order's)."""

    sku = serializers.CharField()
    location = serializers.CharField(
        allow_null=True, help_text="Null for a routed order's line: no location could."
    )
    requested = serializers.IntegerField()
    available_to_promise = serializers.IntegerField()
    earliest_available_at = serializers.DateTimeField(
        allow_null=True,
        required=False,
        help_text="For a SKU that takes pre-orders (future_promise_limit): the "
        "earliest date dated supply could cover what the shelf cannot, as a "
        "pre-order (allow_future); null when none on its way could.",
    )
    kits = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The kits in the cart whose components need this SKU there (a "
        "kit holds its components' units); empty for units asked for alone.",
    )


class ReservationConflictSerializer(serializers.Serializer):
    """A 409 from placing a hold."""

    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`insufficient_stock` (with `shortages`; nothing was held) or "
        "`reference_clash` (with `reservation_id`: the reference holds other lines)."
    )
    shortages = ShortageSerializer(many=True, required=False)
    reservation_id = serializers.IntegerField(required=False)


class TransitionRefusedSerializer(serializers.Serializer):
    """A 409 from a transition; nothing was moved."""

    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`reservation_transition_refused` (with the current `status` and the "
        "transitions it `allowed`) or `reservation_out_of_step` (the balances no "
        "longer hold what the reservation holds: a person should look)."
    )
    status = serializers.ChoiceField(choices=Reservation.Status.choices, required=False)
    allowed = serializers.ListField(child=serializers.CharField(), required=False)
