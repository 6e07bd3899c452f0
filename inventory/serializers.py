"""API shapes of locations, stock movements, availability and reservations."""

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from catalog.models import Sku
from catalog.selectors import channels_by_code, records_by_code
from config.api import (
    CodeField,
    CoordinateField,
    StrictBooleanField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from config.fast_serializers import FastSerializer
from config.moments import validate_moment

from .kit_availability import KitRow
from .models import (
    Location,
    MovementType,
    StockMovement,
)
from .movements import INTEGRATION_TYPE_CHOICES, MAX_MOVEMENT_QUANTITY, RULES
from .selectors import AvailabilityStatus, locations_by_code
from .services import MovementInput


@cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class LocationInputSerializer(StrictInputSerializer):
    writes = Location
    name = StrictCharField(max_length=200)
    kind = serializers.ChoiceField(choices=Location.Kind.choices, required=False)
    address = StrictCharField(max_length=300, required=False, allow_blank=True)
    city = StrictCharField(max_length=100, required=False, allow_blank=True)
    postal_code = StrictCharField(max_length=20, required=False, allow_blank=True)
    country = StrictCharField(
        max_length=2, required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2."
    )
    latitude = CoordinateField(
        required=False, allow_null=True, min_value=-90, max_value=90
    )
    longitude = CoordinateField(
        required=False, allow_null=True, min_value=-180, max_value=180
    )
    time_zone = StrictCharField(
        max_length=64, required=False, help_text="IANA name, e.g. Europe/London."
    )
    pickup_enabled = StrictBooleanField(required=False)
    ship_from_store_enabled = StrictBooleanField(required=False)
    is_active = StrictBooleanField(required=False)
    # What order routing weighs (docs/orders.md).
    shipping_cost = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=Decimal(0), required=False
    )
    daily_order_capacity = StrictIntegerField(
        min_value=0, allow_null=True, required=False, help_text="Empty: no limit."
    )
    walk_in_buffer = StrictIntegerField(
        min_value=0, max_value=1_000_000, required=False
    )
    service_radius_km = StrictIntegerField(
        min_value=1, allow_null=True, required=False, help_text="Empty: anywhere."
    )
    # Click-and-collect promises (docs/pickup.md), in the location's time zone.
    opens_at = serializers.TimeField(required=False, help_text="e.g. 09:00.")
    pickup_cutoff = serializers.TimeField(
        required=False, help_text="Pickup orders placed before this are ready today."
    )
    pickup_preparation_minutes = StrictIntegerField(
        min_value=0, max_value=7 * 24 * 60, required=False
    )
    pickup_hold_days = StrictIntegerField(min_value=1, max_value=60, required=False)

    def validate_country(self, country: str) -> str:
        if country and not (
            len(country) == 2 and country.isascii() and country.isalpha()
        ):
            raise serializers.ValidationError("Two letters, e.g. GB.")
        return country.upper()

    def validate_time_zone(self, time_zone: str) -> str:
        if time_zone not in _known_time_zones():
            raise serializers.ValidationError(
                "Not a known IANA time zone, e.g. Europe/London."
            )
        return time_zone

    def validate_latitude(self, value: float | None) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    def validate_longitude(self, value: float | None) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    def validate(self, attrs: dict) -> dict:
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError(
                {"latitude": ["Send latitude and longitude together."]}
            )
        return attrs


class LocationSerializer(serializers.ModelSerializer):
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)

    class Meta:
        model = Location
        fields = [
            "code",
            "name",
            "kind",
            "address",
            "city",
            "postal_code",
            "country",
            "latitude",
            "longitude",
            "time_zone",
            "pickup_enabled",
            "ship_from_store_enabled",
            "shipping_cost",
            "daily_order_capacity",
            "walk_in_buffer",
            "service_radius_km",
            "opens_at",
            "pickup_cutoff",
            "pickup_preparation_minutes",
            "pickup_hold_days",
            "is_active",
            "created_at",
            "updated_at",
        ]


REFERENCE_HELP = "1-100 printable characters, no spaces; unique per source channel."
REFERENCE_VALIDATOR = RegexValidator(r"^[!-~]{1,100}\Z", REFERENCE_HELP)
# Entries the system writes itself (a reservation's moves) carry references that start
# with this mark, so no integration's reference can ever clash with them.
INTERNAL_REFERENCE_MARK = "#"


def source_moment(raw: str) -> datetime:
    """A moment a source states (when it happened, when a snapshot was taken): ISO
    8601 with an offset, one the database can hold (``config.moments``), not in the
    future beyond the clock skew allowed."""
    moment = stated_moment(raw)
    skew = timedelta(seconds=settings.ONESTOCK_CLOCK_SKEW_SECONDS)
    if moment > timezone.now() + skew:
        raise serializers.ValidationError("Lies in the future.")
    return moment


def stated_moment(raw: str) -> datetime:
    """ISO 8601 with an offset, one the database can hold (``config.moments``), past
    or future (when supply is due)."""
    try:
        moment = parse_datetime(raw)
    except ValueError:
        moment = None
    if moment is None:
        raise serializers.ValidationError(
            "Not a date-time: use ISO 8601, e.g. 2026-11-23T09:30:00Z."
        )
    if moment.tzinfo is None:
        raise serializers.ValidationError(
            "Include a UTC offset, e.g. 2026-11-23T09:30:00Z or +01:00."
        )
    try:
        validate_moment(moment)
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from error
    return moment


class MovementInputSerializer(FastSerializer, StrictInputSerializer):
    """The shape of one stock event. Codes are checked against the records afterwards,
    for a whole batch at once (``MovementCodes``). Fast (``config.fast_serializers``):
    a batch validates a thousand of them."""

    reference = StrictCharField(
        max_length=100,
        trim_whitespace=False,
        help_text=REFERENCE_HELP + " Not starting with '#'.",
        validators=[REFERENCE_VALIDATOR],
    )
    type = serializers.ChoiceField(choices=INTEGRATION_TYPE_CHOICES)
    sku = CodeField(help_text="SKU code.")
    location = CodeField(help_text="Location code.")
    quantity = StrictIntegerField(
        min_value=-MAX_MOVEMENT_QUANTITY,
        max_value=MAX_MOVEMENT_QUANTITY,
        help_text="Units, at least 1; an adjustment is signed (not 0); a count is the "
        "absolute on-hand (0 or more).",
    )
    occurred_at = StrictCharField(
        max_length=40,
        help_text="ISO 8601 with a UTC offset: when it happened at the source.",
    )
    channel = CodeField(
        required=False,
        help_text="Source channel code; defaults to the token's own channel.",
    )
    reason = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Why; required for an adjustment.",
    )
    other_location = CodeField(
        required=False,
        help_text="For transfer_out, where to; for transfer_in, where from.",
    )
    expected_at = StrictCharField(
        max_length=40,
        required=False,
        help_text="When the units are due (ISO 8601 with a UTC offset): required for "
        "receipt_expected; for transfer_out, else the route's lead time dates it.",
    )
    supply_reference = StrictCharField(
        max_length=100,
        required=False,
        validators=[REFERENCE_VALIDATOR],
        help_text="The purchase order: on receipt_expected, and on the receipt that "
        "delivers it (else a receipt settles the earliest supply due there).",
    )

    def validate_expected_at(self, raw: str) -> datetime:
        return stated_moment(raw)

    def validate_reference(self, reference: str) -> str:
        if reference.startswith(INTERNAL_REFERENCE_MARK):
            raise serializers.ValidationError(
                "References starting with '#' are kept for entries this system writes."
            )
        return reference

    def validate_occurred_at(self, raw: str) -> datetime:
        return source_moment(raw)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        rule = RULES[attrs["type"]]
        quantity = attrs["quantity"]
        errors: dict[str, list[str]] = {}
        if attrs["type"] == MovementType.COUNT:
            if quantity < 0:
                errors["quantity"] = ["A count is 0 or more."]
        elif rule.signed_quantity:
            if quantity == 0:
                errors["quantity"] = ["An adjustment is not 0."]
        elif quantity < 1:
            errors["quantity"] = ["At least 1."]
        if rule.reason_required and not attrs.get("reason", "").strip():
            errors["reason"] = [f"Required for {attrs['type']}."]
        other = attrs.get("other_location")
        if rule.needs_other_location:
            if not other:
                errors["other_location"] = [f"Required for {attrs['type']}."]
            elif other == attrs["location"]:
                errors["other_location"] = ["Must differ from location."]
        elif other:
            errors["other_location"] = ["Only for transfers."]
        errors.update(_supply_errors(attrs))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


# Future supply (docs/supply.md): which types carry a due date and a purchase order.
DATED = (MovementType.RECEIPT_EXPECTED, MovementType.TRANSFER_OUT)
OF_A_PURCHASE_ORDER = (MovementType.RECEIPT_EXPECTED, MovementType.RECEIPT)


def _supply_errors(attrs: dict[str, Any]) -> dict[str, list[str]]:
    kind = attrs["type"]
    errors = {}
    if "expected_at" in attrs and kind not in DATED:
        errors["expected_at"] = ["Only for receipt_expected and transfer_out."]
    elif kind == MovementType.RECEIPT_EXPECTED and "expected_at" not in attrs:
        errors["expected_at"] = [
            "Required for receipt_expected: when the units are due."
        ]
    if attrs.get("supply_reference") and kind not in OF_A_PURCHASE_ORDER:
        errors["supply_reference"] = ["Only for receipt_expected and receipt."]
    return errors


class MovementCodes:
    """Resolves the codes of a batch of validated events with one query per kind of
    record, and reports the unknown ones as field errors."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        # Only what a ledger entry reads of a SKU (its key and code): a batch names up
        # to a thousand, and a whole catalogue row each costs more than its entry.
        self.skus = records_by_code(
            wanted={Sku: (("id", "code", "is_kit"), {event["sku"] for event in events})}
        )[Sku]
        self.locations = locations_by_code(
            codes={event["location"] for event in events}
            | {event["other_location"] for event in events if "other_location" in event}
        )
        self.channels = channels_by_code(
            codes={event["channel"] for event in events if "channel" in event}
        )

    def movement(self, event: dict[str, Any]) -> MovementInput:
        """The event with its records, or ValidationError naming the unknown codes."""
        errors = {}
        sku = self.skus.get(event["sku"])
        if sku is None:
            errors["sku"] = [f"Unknown SKU {event['sku']!r}."]
        elif sku.is_kit:
            errors["sku"] = [
                f"{sku.code} is a kit: it holds no stock of its own. Record the "
                "movements of its components."
            ]
        location = self.locations.get(event["location"])
        if location is None:
            errors["location"] = [f"Unknown location {event['location']!r}."]
        other = None
        if "other_location" in event:
            other = self.locations.get(event["other_location"])
            if other is None:
                errors["other_location"] = [
                    f"Unknown location {event['other_location']!r}."
                ]
        channel = self.channels.get(event.get("channel", ""))
        if "channel" not in event:
            errors["channel"] = ["This field is required."]
        elif channel is None:
            errors["channel"] = [f"Unknown channel {event['channel']!r}."]
        if errors:
            raise serializers.ValidationError(errors)
        return MovementInput(
            reference=event["reference"],
            type=event["type"],
            sku=sku,
            location=location,
            quantity=event["quantity"],
            occurred_at=event["occurred_at"],
            channel=channel,
            reason=event.get("reason", ""),
            other_location=other,
            expected_at=event.get("expected_at"),
            supply_reference=event.get("supply_reference", ""),
        )


class MovementDeltasSerializer(serializers.Serializer):
    on_hand = serializers.IntegerField(source="on_hand_delta")
    committed = serializers.IntegerField(source="committed_delta")
    picked = serializers.IntegerField(source="picked_delta")
    reserved = serializers.IntegerField(source="reserved_delta")
    damaged = serializers.IntegerField(source="damaged_delta")
    quality_control = serializers.IntegerField(source="quality_control_delta")
    in_transit = serializers.IntegerField(source="in_transit_delta")
    incoming = serializers.IntegerField(source="incoming_delta")
    other_location_in_transit = serializers.IntegerField(
        source="other_location_in_transit_delta"
    )


class MovementSerializer(FastSerializer, serializers.ModelSerializer):
    """A ledger entry as stored, with what it did to each bucket. Fast
    (``config.fast_serializers``): a batch answers with a thousand of them."""

    channel = serializers.CharField(source="channel.code")
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    other_location = serializers.CharField(
        source="other_location.code", allow_null=True, default=None
    )
    deltas = MovementDeltasSerializer(source="*")

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "reference",
            "type",
            "sku",
            "location",
            "other_location",
            "quantity",
            "occurred_at",
            "recorded_at",
            "channel",
            "reason",
            "expected_at",
            "supply_reference",
            "status",
            "status_reason",
            "actor",
            "deltas",
        ]


class MovementResultSerializer(serializers.Serializer):
    """One line of a batch answer, in input order."""

    index = serializers.IntegerField()
    reference = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "duplicate", "rejected"])
    movement = MovementSerializer(allow_null=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )


class MovementBatchResponseSerializer(serializers.Serializer):
    results = MovementResultSerializer(many=True)


class KitComponentAvailabilitySerializer(FastSerializer, serializers.Serializer):
    """One component's figures in a kit's row, at the kit's location."""

    sku = serializers.CharField(help_text="The component's code.")
    quantity = serializers.IntegerField(help_text="Units of it in one kit.")
    available = serializers.IntegerField()
    available_to_promise = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AvailabilityStatus.choices)


class AvailabilitySerializer(FastSerializer, serializers.Serializer):
    """One row of ``inventory.selectors.availability_rows``. Fast
    (``config.fast_serializers``): a product list reads a hundred rows at a time."""

    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    on_hand = serializers.IntegerField()
    committed = serializers.IntegerField()
    picked = serializers.IntegerField()
    reserved = serializers.IntegerField()
    damaged = serializers.IntegerField()
    quality_control = serializers.IntegerField()
    in_transit = serializers.IntegerField()
    incoming = serializers.IntegerField()
    available = serializers.IntegerField()
    channel = serializers.CharField(source="channel.code", allow_null=True)
    safety_buffer = serializers.IntegerField()
    available_to_promise = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AvailabilityStatus.choices)
    as_of = serializers.DateTimeField(
        allow_null=True,
        help_text="Latest occurred-at among the events in these figures.",
    )
    sequence = serializers.IntegerField(
        help_text="How many times these figures changed: the webhooks and the change "
        "feed carry the same number, so a channel can tell which is newer. A kit's: "
        "its revision × 10^12 plus its components' sequences there (it only rises).",
    )
    components = KitComponentAvailabilitySerializer(
        many=True,
        required=False,
        help_text="A kit's row only (absent from a plain SKU's): each component's "
        "figures at this location. The kit's own are the minimum over them of "
        "floor(the component's figure ÷ units per kit); its buckets and "
        "`safety_buffer` are 0 (a kit holds no stock; the components' buffers are "
        "inside their available-to-promise) and its `status` is the least certain "
        "of theirs.",
    )


class PlainAvailabilitySerializer(AvailabilitySerializer):
    """A plain SKU's row: every field but ``components``."""

    components = None


def availability_data(rows: list) -> list[dict]:
    """The rows as answered: a list of plain SKUs' rows in one pass of
    ``PlainAvailabilitySerializer``, then each kit's row again with its
    components."""
    data = PlainAvailabilitySerializer(rows, many=True).data
    if any(type(row) is KitRow for row in rows):
        for index, row in enumerate(rows):
            if type(row) is KitRow:
                data[index] = AvailabilitySerializer(row).data
    return data
