"""API shapes of the catalogue: strict input serializers and plain output serializers."""

import math
from typing import Any

from rest_framework import serializers

from config.api import (
    StrictBooleanField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)

from .gtin import gtin_problem
from .models import (
    MAX_COMPONENT_QUANTITY,
    MAX_KIT_COMPONENTS,
    MAX_RESERVATION_TTL_SECONDS,
    MAX_SAFETY_BUFFER,
    MIN_RESERVATION_TTL_SECONDS,
    MONEY_DIGITS,
    MONEY_PLACES,
    Channel,
    Product,
    Sku,
)

MAX_ATTRIBUTES = 50
# More units promised ahead of supply than a chain sells of a SKU in years is a typo.
MAX_FUTURE_PROMISE_LIMIT = 1_000_000


def _storable_text(text: str) -> bool:
    """PostgreSQL refuses NUL in text and JSON, and lone surrogates cannot be encoded."""
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


class MoneyField(serializers.DecimalField):
    """An amount per unit: a JSON number or a decimal string ("12.50"), 0 or more, at
    most two decimals; null: not known. True/false is not a number."""

    default_error_messages = {
        "invalid": "Must be an amount such as 12.50.",
        "min_value": "Must be 0 or more.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_PLACES)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ProductInputSerializer(StrictInputSerializer):
    writes = Product
    name = StrictCharField(max_length=200)
    brand = StrictCharField(max_length=100, required=False, allow_blank=True)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True)
    is_active = StrictBooleanField(required=False)


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "code",
            "name",
            "brand",
            "description",
            "is_active",
            "created_at",
            "updated_at",
        ]


class KitComponentInputSerializer(StrictInputSerializer):
    sku = StrictCharField(max_length=64, help_text="The component's SKU code.")
    quantity = StrictIntegerField(
        min_value=1,
        max_value=MAX_COMPONENT_QUANTITY,
        help_text="Units of the component in one kit.",
    )


class SkuInputSerializer(StrictInputSerializer):
    writes = Sku
    name = StrictCharField(max_length=200)
    product = StrictCharField(
        max_length=64,
        required=False,
        allow_null=True,
        help_text="Product code, or null.",
    )
    barcode = StrictCharField(
        max_length=14,
        required=False,
        allow_blank=True,
        help_text="GTIN-8/12/13/14 or empty.",
    )
    attributes = serializers.DictField(
        required=False, help_text="Flat object of size, colour and the like."
    )
    safety_buffer = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_SAFETY_BUFFER,
        help_text="Overrides every channel's safety buffer for this SKU; null: none.",
    )
    cost = MoneyField(
        help_text="What one unit costs the retailer (lost stock is valued at it), "
        "as a number or a decimal string; null: not known."
    )
    price = MoneyField(
        help_text="What one unit sells for (lost sales are valued at it), as a "
        "number or a decimal string; null: not known."
    )
    future_promise_limit = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_FUTURE_PROMISE_LIMIT,
        help_text="Units that may be promised against dated supply (pre-orders and "
        "back-orders) at any one time, across every location; 0 (the default): no "
        "pre-orders.",
    )
    is_active = StrictBooleanField(required=False)
    components = KitComponentInputSerializer(
        many=True,
        required=False,
        help_text="Makes the SKU a kit: sold as one, made of these components (each "
        "a SKU that is not a kit; the same SKU twice is summed). A kit holds no stock "
        "of its own: its availability is its components'. A kit's components may "
        "change, never to none (close it with `is_active: false`). Left out: "
        "unchanged. Holds and orders keep the components they took.",
    )

    def validate_components(self, components: list[dict]) -> list[tuple[Sku, int]]:
        if len(components) > MAX_KIT_COMPONENTS:
            raise serializers.ValidationError(
                f"At most {MAX_KIT_COMPONENTS} components."
            )
        codes = {part["sku"] for part in components}
        found = {sku.code: sku for sku in Sku.objects.filter(code__in=codes)}
        unknown = sorted(codes - found.keys())
        if unknown:
            raise serializers.ValidationError(
                [f"Unknown SKU {code!r}." for code in unknown]
            )
        return [(found[part["sku"]], part["quantity"]) for part in components]

    def validate_product(self, code: str | None) -> Product | None:
        if code is None:
            return None
        product = Product.objects.filter(code=code).first()
        if product is None:
            raise serializers.ValidationError(f"No product with code {code!r}.")
        return product

    def validate_barcode(self, barcode: str) -> str:
        if barcode == "":
            return barcode
        problem = gtin_problem(barcode)
        if problem:
            raise serializers.ValidationError(problem)
        holder = (
            Sku.objects.filter(barcode=barcode)
            .exclude(code=self.context["code"])
            .first()
        )
        if holder is not None:
            raise serializers.ValidationError(
                f"Barcode already used by SKU {holder.code}."
            )
        return barcode

    def validate_attributes(self, attributes: dict[str, Any]) -> dict[str, Any]:
        if len(attributes) > MAX_ATTRIBUTES:
            raise serializers.ValidationError(f"At most {MAX_ATTRIBUTES} attributes.")
        for key, value in attributes.items():
            if not 1 <= len(key) <= 64 or not _storable_text(key):
                raise serializers.ValidationError(
                    "Attribute names have 1-64 characters, with no control characters."
                )
            if isinstance(value, str):
                if len(value) > 200:
                    raise serializers.ValidationError(f"{key}: at most 200 characters.")
                if not _storable_text(value):
                    raise serializers.ValidationError(
                        f"{key}: contains a forbidden character."
                    )
            elif isinstance(value, float):
                if not math.isfinite(value):
                    raise serializers.ValidationError(
                        f"{key}: must be a finite number."
                    )
            elif not isinstance(value, bool | int):
                raise serializers.ValidationError(
                    f"{key}: a value is a string, a number or true/false."
                )
        return attributes


class KitComponentSerializer(serializers.Serializer):
    sku = serializers.CharField(source="component.code")
    quantity = serializers.IntegerField()


class SkuSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    components = KitComponentSerializer(
        many=True,
        read_only=True,
        help_text="A kit's components, each with its units per kit; empty for a "
        "plain SKU.",
    )

    class Meta:
        model = Sku
        fields = [
            "code",
            "name",
            "product",
            "barcode",
            "attributes",
            "safety_buffer",
            "cost",
            "price",
            "future_promise_limit",
            "is_kit",
            "components",
            "is_active",
            "created_at",
            "updated_at",
        ]


class ChannelInputSerializer(StrictInputSerializer):
    writes = Channel
    name = StrictCharField(max_length=200)
    kind = serializers.ChoiceField(choices=Channel.Kind.choices, required=False)
    safety_buffer = StrictIntegerField(
        required=False, min_value=0, max_value=MAX_SAFETY_BUFFER
    )
    reservation_ttl_seconds = StrictIntegerField(
        required=False,
        min_value=MIN_RESERVATION_TTL_SECONDS,
        max_value=MAX_RESERVATION_TTL_SECONDS,
    )
    buffer_policy = serializers.ChoiceField(
        choices=Channel.BufferPolicy.choices,
        required=False,
        help_text="`fixed`: the channel's safety buffer everywhere; `velocity`: each "
        "SKU-location's buffer from the channel's rate of sale there (a SKU's own "
        "buffer always wins).",
    )
    allow_future_by_default = StrictBooleanField(
        required=False,
        help_text="Holds and order lines that leave out `allow_future` may promise "
        "what the shelf cannot cover against dated supply (pre-orders).",
    )
    allow_kit_split = StrictBooleanField(
        required=False,
        help_text="A kit line may be routed from more than one location and "
        "cancelled part by part (false, the default: every kit goes whole).",
    )
    is_active = StrictBooleanField(required=False)


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = [
            "code",
            "name",
            "kind",
            "safety_buffer",
            "buffer_policy",
            "reservation_ttl_seconds",
            "allow_future_by_default",
            "allow_kit_split",
            "is_active",
            "created_at",
            "updated_at",
        ]
