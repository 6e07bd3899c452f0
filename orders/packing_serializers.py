"""The packing problem as the API reads it (on the order, ``packing_problems``), and
what a packer's report and a decision on it send. Input is strict; codes are
resolved to records here, each unknown one a 400 on its own field."""

from rest_framework import serializers

from catalog.models import Sku
from config.api import (
    CodeField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from inventory.models import Location
from inventory.movements import MAX_MOVEMENT_QUANTITY

from .models import PackingProblem

Resolution = PackingProblem.Resolution


class PackingProblemSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line_id")
    sku = serializers.CharField(source="line.sku.code")
    location = serializers.CharField(
        source="location.code", help_text="Where the packer could not find them."
    )
    rerouted_line = serializers.IntegerField(
        source="rerouted_line_id",
        allow_null=True,
        help_text="The line that fills the units now (`resolution` `rerouted`).",
    )
    rerouted_to = serializers.CharField(
        source="rerouted_line.location.code", allow_null=True, default=None
    )
    substitute = serializers.CharField(
        source="substitute_sku.code", allow_null=True, default=None
    )
    follow_up_order = serializers.IntegerField(
        source="follow_up_order_id",
        allow_null=True,
        help_text="The order that ships the units later (`ship_later`).",
    )
    follow_up_reference = serializers.CharField(
        source="follow_up_order.reference", allow_null=True, default=None
    )
    routing = serializers.DictField(
        help_text="The re-routing decision made when reported: `rerouted`, "
        "`reason` in words, and when routed the `allocations` and every candidate "
        "with its score or why it was ruled out."
    )

    class Meta:
        model = PackingProblem
        fields = [
            "id",
            "line",
            "sku",
            "location",
            "quantity",
            "condition",
            "note",
            "status",
            "resolution",
            "rerouted_line",
            "rerouted_to",
            "substitute",
            "customer_answer",
            "follow_up_order",
            "follow_up_reference",
            "routing",
            "reported_by",
            "reported_at",
            "resolved_by",
            "resolved_at",
            "request_reference",
            "decision_reference",
        ]


class ReportShortSerializer(StrictInputSerializer):
    line = StrictIntegerField(min_value=1, help_text="The line's id.")
    quantity = StrictIntegerField(
        min_value=1,
        max_value=MAX_MOVEMENT_QUANTITY,
        help_text="Units of it the packer could not take off the shelf.",
    )
    condition = serializers.ChoiceField(choices=PackingProblem.Condition.choices)
    note = StrictCharField(max_length=300, required=False, default="")
    request_reference = StrictCharField(
        max_length=100,
        required=False,
        default="",
        help_text="Your key for this report: the same key again changes nothing.",
    )


class DecideSerializer(StrictInputSerializer):
    decision = serializers.ChoiceField(
        choices=[
            (Resolution.SHIP_LATER, "Ship them later on a follow-up order"),
            (Resolution.SUBSTITUTE, "The customer's answer to a substitute"),
            (Resolution.CANCEL, "Cancel them"),
        ]
    )
    substitute = CodeField(
        required=False, help_text="For `substitute`: the SKU offered instead."
    )
    customer_answer = serializers.ChoiceField(
        choices=PackingProblem.Answer.choices,
        required=False,
        help_text="For `substitute`: `accepted` adds it to the order, `declined` "
        "cancels the missing units.",
    )
    location = CodeField(
        required=False,
        help_text="For an accepted `substitute`: where it comes from; left out, it "
        "is routed as the order would be.",
    )
    request_reference = StrictCharField(
        max_length=100,
        required=False,
        default="",
        help_text="Your key for this decision: the same key again changes nothing.",
    )

    def validate(self, attrs):
        substitute = attrs["decision"] == Resolution.SUBSTITUTE
        errors = {}
        for name in ("substitute", "customer_answer"):
            if substitute and name not in attrs:
                errors[name] = ["Required for a substitute."]
        for name in ("substitute", "customer_answer", "location"):
            if not substitute and name in attrs:
                errors[name] = ["Only for a substitute."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def records(self) -> dict:
        """The substitute and its location, resolved: each unknown code a 400."""
        data, found, errors = self.validated_data, {}, {}
        if "substitute" in data:
            found["substitute"] = Sku.objects.filter(code=data["substitute"]).first()
            if found["substitute"] is None:
                errors["substitute"] = [f"Unknown SKU {data['substitute']!r}."]
        if "location" in data:
            found["location"] = Location.objects.filter(code=data["location"]).first()
            if found["location"] is None:
                errors["location"] = [f"Unknown location {data['location']!r}."]
        if errors:
            raise serializers.ValidationError(errors)
        return found
