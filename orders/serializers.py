"""The order as the API reads and writes it. Input is strict (unknown fields, wrong
types and unknown codes are 400s naming their field); codes are resolved to records
here, in a few queries, and the services decide everything else."""

from collections import defaultdict

from drf_spectacular.utils import extend_schema_field
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

from .models import (
    Method,
    Order,
    OrderEvent,
    OrderKitLine,
    OrderLine,
    ReturnToStockTask,
)
from .packing_serializers import PackingProblemSerializer
from .services import (
    MAX_LINES,
    Customer,
    Delivery,
    KitQuantity,
    LineQuantity,
    OrderLineInput,
)


def _reference_field(**kwargs) -> StrictCharField:
    return StrictCharField(max_length=100, **kwargs)


class OrderLineInputSerializer(StrictInputSerializer):
    sku = CodeField(
        help_text="A SKU, or a kit: its components are ordered with it, from one "
        "location (`kit_lines` on the order)."
    )
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


class CancelLineInputSerializer(StrictInputSerializer):
    line = StrictIntegerField(min_value=1, required=False, help_text="The line's id.")
    kit_line = StrictIntegerField(
        min_value=1,
        required=False,
        help_text="Or a kit line's id: `quantity` is then in kits, and each of its "
        "component lines cancels its units per kit.",
    )
    quantity = StrictIntegerField(
        min_value=1, required=False, help_text="Leave out for every unit that can."
    )

    def validate(self, attrs):
        if ("line" in attrs) == ("kit_line" in attrs):
            raise serializers.ValidationError(
                {"line": ["Name either a line or a kit_line."]}
            )
        return attrs


class CancelSerializer(LinesActionSerializer):
    lines = CancelLineInputSerializer(
        many=True,
        required=False,
        allow_empty=False,
        max_length=MAX_LINES,
        help_text="Leave out for every line. Part of a kit is refused "
        "(`kit_split_refused`) unless the channel splits kits: name its kit line.",
    )
    reason = StrictCharField(max_length=500, help_text="Why it is cancelled.")

    def line_quantities(self) -> list[LineQuantity | KitQuantity] | None:
        lines = self.validated_data.get("lines")
        if lines is None:
            return None
        return [
            KitQuantity(line["kit_line"], line.get("quantity"))
            if "kit_line" in line
            else LineQuantity(line["line"], line.get("quantity"))
            for line in lines
        ]


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
    kit_line = serializers.IntegerField(
        source="kit_line_id",
        allow_null=True,
        read_only=True,
        help_text="The kit line this is a component of (`kit_lines`); null for a SKU "
        "sold alone.",
    )
    per_kit = serializers.IntegerField(
        allow_null=True, read_only=True, help_text="Units of it in one kit."
    )
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
            "kit_line",
            "per_kit",
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


class OrderKitLineSerializer(serializers.ModelSerializer):
    """Kits of one kit SKU from one location; its figures are its components'."""

    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    open_kits = serializers.IntegerField(help_text="Kits still to leave.")
    picked_kits = serializers.IntegerField()
    cancelled_kits = serializers.IntegerField()
    fulfilled_kits = serializers.IntegerField()
    lines = serializers.ListField(
        child=serializers.IntegerField(), help_text="Its component lines' ids."
    )

    class Meta:
        model = OrderKitLine
        fields = [
            "id",
            "sku",
            "location",
            "quantity",
            "open_kits",
            "picked_kits",
            "cancelled_kits",
            "fulfilled_kits",
            "lines",
        ]


def kit_lines_shown(order: Order) -> list[dict]:
    """Each kit line with its figures, from the order's (prefetched) lines."""
    components: dict[int, list[OrderLine]] = defaultdict(list)
    for line in order.lines.all():
        if line.kit_line_id is not None:
            components[line.kit_line_id].append(line)
    shown = []
    for kit_line in order.kit_lines.all():
        parts = components[kit_line.pk]
        shown.append(
            {
                "id": kit_line.pk,
                "sku": kit_line.sku,
                "location": kit_line.location,
                "quantity": kit_line.quantity,
                "open_kits": kit_line.kits(parts, lambda x: x.open_quantity),
                "picked_kits": kit_line.kits(parts, lambda x: x.picked_quantity),
                "cancelled_kits": kit_line.kits(parts, lambda x: x.cancelled_quantity),
                "fulfilled_kits": kit_line.kits(parts, lambda x: x.fulfilled_quantity),
                "lines": [line.pk for line in parts],
            }
        )
    return OrderKitLineSerializer(shown, many=True).data


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
    kit_lines = serializers.SerializerMethodField(
        help_text="The kits ordered: each made of its component `lines` (a line's "
        "`kit_line`), whole kits open, picked, cancelled and fulfilled."
    )
    fulfilments = serializers.SerializerMethodField()
    timeline = OrderEventSerializer(many=True, source="events")
    return_to_stock_tasks = ReturnToStockTaskSerializer(many=True)
    packing_problems = PackingProblemSerializer(
        many=True,
        help_text="Units a packer could not find or found damaged, oldest first, "
        "and what became of them (docs/orders.md, A short at packing).",
    )

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
            "kit_lines",
            "fulfilments",
            "routing",
            "timeline",
            "return_to_stock_tasks",
            "packing_problems",
        ]

    def get_customer(self, order: Order) -> dict[str, str]:
        return {
            "name": order.customer_name,
            "email": order.customer_email,
            "phone": order.customer_phone,
        }

    @extend_schema_field(OrderKitLineSerializer(many=True))
    def get_kit_lines(self, order: Order) -> list[dict]:
        return kit_lines_shown(order)

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


class OrderShortageSerializer(ShortageSerializer):
    """A shortage of an order: every unit of the SKU the order asked for at the
    location, checked as one."""

    kit = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="The kit line that needed this component (the first, when `kits` "
        "names more); null when only lines of the SKU alone did. A routed kit no "
        "location could fill names the kit itself as `sku`.",
    )


class OrderConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`insufficient_stock` (with `shortages`, and for a pickup the "
        "`nearest_stores` that could fill it), `reference_clash` (with `order_id`), "
        "`reservation_already_ordered`, `reservation_transition_refused`."
    )
    shortages = OrderShortageSerializer(many=True, required=False)
    nearest_stores = serializers.ListField(
        child=serializers.DictField(), required=False
    )
    order_id = serializers.IntegerField(required=False)


class OrderRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`order_transition_refused` (with `status` and `allowed`), "
        "`request_reference_clash`, `order_out_of_step`, or `kit_split_refused` "
        "(with `kit_line` and `kit`: cancel whole kits)."
    )
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)
    allowed = serializers.ListField(child=serializers.CharField(), required=False)
    kit_line = serializers.IntegerField(required=False)
    kit = serializers.CharField(required=False)


def _float(value) -> float | None:
    return None if value is None else float(value)
