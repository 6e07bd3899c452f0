"""The order as the API reads and writes it. Input is strict (unknown fields, wrong
types and unknown codes are 400s naming their field); codes are resolved to records
here, in a few queries, and the services decide everything else."""

from collections import defaultdict

from rest_framework import serializers

from catalog.models import Channel, Sku
from config.api import (
    CodeField,
    CoordinateField,
    StrictBooleanField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from config.errors import NotFound
from config.moments import MomentField
from inventory.models import Location, Reservation
from inventory.movements import MAX_MOVEMENT_QUANTITY
from inventory.reservation_serializers import ShortageSerializer

from .models import Method, Order, OrderEvent, OrderLine, ReturnToStockTask
from .services import MAX_LINES, Customer, Delivery, LineQuantity, OrderLineInput


def _reference_field(**kwargs) -> StrictCharField:
    return StrictCharField(max_length=100, **kwargs)


class OrderLineInputSerializer(StrictInputSerializer):
    sku = CodeField()
    quantity = StrictIntegerField(min_value=1, max_value=MAX_MOVEMENT_QUANTITY)
    location = CodeField(
        required=False,
        help_text="The location that fulfils it; leave out to have the order routed "
        "(ship methods) or fulfilled at the pickup store.",
    )
    allow_future = StrictBooleanField(
        required=False,
        help_text="A pre-order or back-order: what the shelf cannot cover is promised "
        "against the earliest dated supply at the line's location (never beyond the "
        "SKU's future_promise_limit); the line then says promised_from `supply` and "
        "its expected_at. Defaults to the channel's allow_future_by_default. Honoured "
        "where the location is known (named, the pickup store, or a hold's); a routed "
        "line is routed on the shelf only.",
    )


class CustomerSerializer(StrictInputSerializer):
    name = StrictCharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = StrictCharField(max_length=40, required=False, allow_blank=True, default="")


class DeliverySerializer(StrictInputSerializer):
    address = StrictCharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    city = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = StrictCharField(
        max_length=20, required=False, allow_blank=True, default=""
    )
    country = StrictCharField(
        max_length=2, required=False, allow_blank=True, default=""
    )
    latitude = CoordinateField(min_value=-90, max_value=90, required=False)
    longitude = CoordinateField(min_value=-180, max_value=180, required=False)

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError(
                {"latitude": ["Give both latitude and longitude, or neither."]}
            )
        return attrs


class OrderInputSerializer(StrictInputSerializer):
    reference = _reference_field(help_text="The channel's order number.")
    channel = CodeField(required=False, help_text="Defaults to a bound token's.")
    fulfilment_method = serializers.ChoiceField(choices=Method.choices)
    customer = CustomerSerializer()
    pickup_location = CodeField(required=False, help_text="For pickup and curbside.")
    delivery_address = DeliverySerializer(required=False)
    promised_by = MomentField(
        required=False,
        help_text="Ready-by for a pickup, ship-by otherwise; ISO 8601, between "
        "2000-01-01 and 2099-12-31 (UTC).",
    )
    reservation = StrictIntegerField(
        required=False,
        min_value=1,
        help_text="The id of the checkout hold to turn into this order (its lines "
        "become the order's); or give `lines`.",
    )
    lines = OrderLineInputSerializer(many=True, required=False, max_length=MAX_LINES)

    def validate_reference(self, value: str) -> str:
        if value.startswith("#") or not value.strip():
            raise serializers.ValidationError(
                "Must not be blank nor start with '#' (kept for the system's own)."
            )
        return value


def order_arguments(data: dict) -> dict:
    """Validated input to ``order_place``'s arguments: every code resolved, each
    unknown one a 400 on its own field."""
    errors: dict = {}
    channel = Channel.objects.filter(code=data["channel"]).first()
    if channel is None:
        errors["channel"] = [f"Unknown channel {data['channel']!r}."]
    lines = data.get("lines", [])
    skus = Sku.objects.in_bulk({line["sku"] for line in lines}, field_name="code")
    wanted_places = {line["location"] for line in lines if "location" in line}
    if "pickup_location" in data:
        wanted_places.add(data["pickup_location"])
    places = Location.objects.in_bulk(wanted_places, field_name="code")
    line_errors = []
    for line in lines:
        problem = {}
        if line["sku"] not in skus:
            problem["sku"] = [f"Unknown SKU {line['sku']!r}."]
        if "location" in line and line["location"] not in places:
            problem["location"] = [f"Unknown location {line['location']!r}."]
        line_errors.append(problem)
    if any(line_errors):
        errors["lines"] = line_errors
    pickup = None
    if "pickup_location" in data:
        pickup = places.get(data["pickup_location"])
        if pickup is None:
            errors["pickup_location"] = [
                f"Unknown location {data['pickup_location']!r}."
            ]
    if errors:
        raise serializers.ValidationError(errors)
    reservation = None
    if "reservation" in data:
        # Another channel's hold is answered as no hold at all: whether it exists,
        # and which order it became, is that channel's business.
        reservation = Reservation.objects.filter(
            pk=data["reservation"], channel=channel
        ).first()
        if reservation is None:
            raise NotFound(
                f"No reservation {data['reservation']} for channel {channel.code!r}.",
                field="reservation",
            )
    delivery = data.get("delivery_address", {})
    customer = data["customer"]
    return {
        "channel": channel,
        "reference": data["reference"],
        "method": data["fulfilment_method"],
        "customer": Customer(
            name=customer["name"], email=customer["email"], phone=customer["phone"]
        ),
        "lines": [
            OrderLineInput(
                sku=skus[line["sku"]],
                quantity=line["quantity"],
                location=places.get(line.get("location")),
                allow_future=line.get("allow_future"),
            )
            for line in lines
        ],
        "reservation": reservation,
        "pickup_location": pickup,
        "delivery": Delivery(**delivery),
        "promised_by": data.get("promised_by"),
    }


class LineQuantityInputSerializer(StrictInputSerializer):
    line = StrictIntegerField(min_value=1, help_text="The line's id.")
    quantity = StrictIntegerField(
        min_value=1, required=False, help_text="Leave out for every unit that can."
    )


class LinesActionSerializer(StrictInputSerializer):
    lines = LineQuantityInputSerializer(
        many=True,
        required=False,
        allow_empty=False,
        max_length=MAX_LINES,
        help_text="Leave out for every line.",
    )
    request_reference = _reference_field(
        required=False,
        help_text="Your key for this request: the same key again changes nothing.",
    )

    def line_quantities(self) -> list[LineQuantity] | None:
        lines = self.validated_data.get("lines")
        if lines is None:
            return None
        return [LineQuantity(line["line"], line.get("quantity")) for line in lines]


class CancelSerializer(LinesActionSerializer):
    reason = StrictCharField(max_length=500, help_text="Why it is cancelled.")


class ShipSerializer(LinesActionSerializer):
    carrier = StrictCharField(max_length=100, required=False, default="")
    tracking_reference = StrictCharField(max_length=100, required=False, default="")


class RequestReferenceSerializer(StrictInputSerializer):
    request_reference = _reference_field(required=False)


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    open_quantity = serializers.IntegerField()
    promised_from = serializers.ChoiceField(
        choices=["shelf", "supply"],
        read_only=True,
        help_text="`supply` while some units wait for dated supply (a pre-order or "
        "back-order): committed only when it lands.",
    )
    awaiting_supply_quantity = serializers.IntegerField(read_only=True)
    expected_at = serializers.DateTimeField(
        source="supply_expected_at",
        allow_null=True,
        read_only=True,
        help_text="The promise date of the units waiting for supply; null while "
        "none does, or while no supply covers them (a supply_delayed case).",
    )

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "location",
            "quantity",
            "cancelled_quantity",
            "picked_quantity",
            "fulfilled_quantity",
            "short_quantity",
            "awaiting_supply_quantity",
            "open_quantity",
            "status",
            "promised_from",
            "expected_at",
        ]


class OrderEventSerializer(serializers.ModelSerializer):
    # Named ``reason`` in the API since the first version; the model's ``note``,
    # which the API has always kept to 500 characters (what a caller may send).
    reason = serializers.CharField(
        source="note", max_length=500, allow_blank=True, required=False
    )

    class Meta:
        model = OrderEvent
        fields = [
            "id",
            "at",
            "kind",
            "from_status",
            "to_status",
            "actor",
            "source",
            "reason",
            "detail",
            "request_reference",
        ]
        # Every order event names its system: the schema has always said so.
        extra_kwargs = {"source": {"required": True}}


class ReturnToStockTaskSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="order_id")
    order_reference = serializers.CharField(source="order.reference")
    line = serializers.IntegerField(source="line_id")
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")

    class Meta:
        model = ReturnToStockTask
        fields = [
            "id",
            "order",
            "order_reference",
            "line",
            "sku",
            "location",
            "quantity",
            "reason",
            "status",
            "created_by",
            "created_at",
            "put_away_by",
            "put_away_at",
        ]


class FulfilmentSerializer(serializers.Serializer):
    location = serializers.CharField()
    lines = serializers.ListField(child=serializers.IntegerField())
    units = serializers.IntegerField()
    open_units = serializers.IntegerField()


class OrderSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    customer = serializers.SerializerMethodField()
    pickup_location = serializers.CharField(
        source="pickup_location.code", allow_null=True, default=None
    )
    delivery_address = serializers.SerializerMethodField()
    reservation = serializers.IntegerField(source="reservation_id", allow_null=True)
    lines = OrderLineSerializer(many=True)
    fulfilments = serializers.SerializerMethodField()
    timeline = OrderEventSerializer(many=True, source="events")
    return_to_stock_tasks = ReturnToStockTaskSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "reference",
            "channel",
            "status",
            "fulfilment_method",
            "customer",
            "pickup_location",
            "delivery_address",
            "promised_by",
            "reservation",
            "placed_at",
            "placed_by",
            "lines",
            "fulfilments",
            "routing",
            "timeline",
            "return_to_stock_tasks",
        ]

    def get_customer(self, order: Order) -> dict[str, str]:
        return {
            "name": order.customer_name,
            "email": order.customer_email,
            "phone": order.customer_phone,
        }

    def get_delivery_address(self, order: Order) -> dict | None:
        if order.is_collected_by_customer:
            return None
        return {
            "address": order.delivery_address,
            "city": order.delivery_city,
            "postal_code": order.delivery_postal_code,
            "country": order.delivery_country,
            "latitude": _float(order.delivery_latitude),
            "longitude": _float(order.delivery_longitude),
        }

    def get_fulfilments(self, order: Order) -> list[dict]:
        """One per location: a split order shows each shipment on its own."""
        by_place: dict[str, list[OrderLine]] = defaultdict(list)
        for line in order.lines.all():
            by_place[line.location.code].append(line)
        return FulfilmentSerializer(
            [
                {
                    "location": code,
                    "lines": [line.pk for line in lines],
                    "units": sum(line.quantity for line in lines),
                    "open_units": sum(line.open_quantity for line in lines),
                }
                for code, lines in by_place.items()
            ],
            many=True,
        ).data


class OrderConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`insufficient_stock` (with `shortages`, and for a pickup the "
        "`nearest_stores` that could fill it), `reference_clash` (with `order_id`), "
        "`reservation_already_ordered`, `reservation_transition_refused`."
    )
    shortages = ShortageSerializer(many=True, required=False)
    nearest_stores = serializers.ListField(
        child=serializers.DictField(), required=False
    )
    order_id = serializers.IntegerField(required=False)


class OrderRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`order_transition_refused` (with `status` and `allowed`), "
        "`request_reference_clash`, or `order_out_of_step`."
    )
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    allowed = serializers.ListField(child=serializers.CharField(), required=False)


def _float(value) -> float | None:
    return None if value is None else float(value)
