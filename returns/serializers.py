"""The return as the API reads and writes it. Input is strict (unknown fields, wrong
types and unknown codes are 400s naming their field); codes are resolved to records
here, and ``returns.services`` decides everything else."""

from rest_framework import serializers

from catalog.models import Channel, Sku
from config.api import (
    CodeField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from config.records import CODE_HELP
from inventory.models import Location
from inventory.movements import MAX_MOVEMENT_QUANTITY
from orders.models import Order

from .models import Return, ReturnEvent, ReturnInspection, ReturnLine, ReturnReason
from .services import Customer, Purchase, ReturnLineInput

MAX_LINES = 200


class ReturnLineInputSerializer(StrictInputSerializer):
    sku = CodeField(
        help_text=f"The item coming back; a kit's code brings back whole kits, one "
        f"line per component, each naming the kit. {CODE_HELP}"
    )
    quantity = StrictIntegerField(
        min_value=1,
        max_value=MAX_MOVEMENT_QUANTITY,
        help_text="Units; for a kit, kits.",
    )
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    reason_text = StrictCharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when the reason is `other`.",
    )


class ReturnCustomerSerializer(StrictInputSerializer):
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class ReturnInputSerializer(StrictInputSerializer):
    reference = StrictCharField(
        max_length=64, help_text="The channel's return number (RMA)."
    )
    channel = CodeField(
        required=False,
        help_text="The channel the goods were bought through; defaults to a bound "
        "token's.",
    )
    order = StrictCharField(
        max_length=100,
        required=False,
        help_text="The channel's order number; or give `till_receipt`.",
    )
    till_receipt = StrictCharField(max_length=64, required=False, default="")
    location = CodeField(help_text="Where the parcel will be received.")
    customer = ReturnCustomerSerializer(required=False)
    lines = ReturnLineInputSerializer(many=True, min_length=1, max_length=MAX_LINES)

    def validate_reference(self, value: str) -> str:
        if value.startswith("#") or not value.strip():
            raise serializers.ValidationError(
                "Must not be blank nor start with '#' (kept for the system's own)."
            )
        return value

    def announcement(self) -> dict:
        """Validated input as ``return_announce``'s arguments: every code resolved,
        each unknown one a 400 on its own field."""
        data = self.validated_data
        errors: dict = {}
        channel = Channel.objects.filter(code=data["channel"]).first()
        if channel is None:
            errors["channel"] = [f"Unknown channel {data['channel']!r}."]
        order = None
        if "order" in data and channel is not None:
            order = Order.objects.filter(
                channel=channel, reference=data["order"]
            ).first()
            if order is None:
                errors["order"] = [
                    f"No order {data['order']!r} from channel {channel.code!r}."
                ]
        location = Location.objects.filter(code=data["location"]).first()
        if location is None:
            errors["location"] = [f"Unknown location {data['location']!r}."]
        skus = Sku.objects.in_bulk(
            {line["sku"] for line in data["lines"]}, field_name="code"
        )
        line_errors = [
            {} if line["sku"] in skus else {"sku": [f"Unknown SKU {line['sku']!r}."]}
            for line in data["lines"]
        ]
        if any(line_errors):
            errors["lines"] = line_errors
        if errors:
            raise serializers.ValidationError(errors)
        customer = data.get("customer", {})
        return {
            "reference": data["reference"],
            "purchase": Purchase(
                channel=channel, order=order, till_receipt=data["till_receipt"]
            ),
            "location": location,
            "customer": Customer(
                name=customer.get("name", ""), email=customer.get("email", "")
            ),
            "lines": [
                ReturnLineInput(
                    sku=skus[line["sku"]],
                    quantity=line["quantity"],
                    reason=line["reason"],
                    reason_text=line["reason_text"],
                )
                for line in data["lines"]
            ],
        }


class ReturnCancelSerializer(StrictInputSerializer):
    reason = StrictCharField(max_length=500, help_text="Why it will not come.")


class ReturnCloseSerializer(StrictInputSerializer):
    note = StrictCharField(
        max_length=500,
        required=False,
        default="",
        allow_blank=True,
        help_text="e.g. the refund's reference.",
    )


class ReturnInspectionSerializer(serializers.ModelSerializer):
    graded_by = serializers.CharField(source="actor")

    class Meta:
        model = ReturnInspection
        fields = [
            "grade",
            "quantity",
            "shelf_location",
            "condition",
            "note",
            "graded_by",
            "graded_at",
        ]


class ReturnLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    kit = serializers.CharField(
        source="kit.code",
        allow_null=True,
        default=None,
        help_text="The kit these units came back in (or were sold in), or null: a "
        "kit is received and graded by component.",
    )
    order_line = serializers.IntegerField(source="order_line_id", allow_null=True)
    inspections = ReturnInspectionSerializer(many=True)

    class Meta:
        model = ReturnLine
        fields = [
            "id",
            "sku",
            "kit",
            "order_line",
            "expected_quantity",
            "quantity",
            "graded_quantity",
            "reason",
            "reason_text",
            "inspections",
        ]


class ReturnEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnEvent
        fields = ["at", "kind", "from_status", "to_status", "actor", "note", "detail"]


class ReturnSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    order = serializers.CharField(
        source="order.reference", allow_null=True, default=None
    )
    location = serializers.CharField(source="location.code")
    customer = serializers.SerializerMethodField()
    lines = ReturnLineSerializer(many=True)
    timeline = ReturnEventSerializer(many=True, source="events")

    class Meta:
        model = Return
        fields = [
            "id",
            "reference",
            "channel",
            "order",
            "till_receipt",
            "location",
            "status",
            "source",
            "customer",
            "created_by",
            "created_at",
            "received_by",
            "received_at",
            "graded_at",
            "closed_at",
            "overdue_since",
            "lines",
            "timeline",
        ]

    def get_customer(self, found: Return) -> dict[str, str]:
        return {"name": found.customer_name, "email": found.customer_email}
