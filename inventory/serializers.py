"""API shapes of locations."""

import zoneinfo
from decimal import Decimal
from functools import cache

from rest_framework import serializers

from config.api import (
    CoordinateField,
    StrictBooleanField,
    StrictCharField,
    StrictInputSerializer,
)

from .models import Location


@cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class LocationInputSerializer(StrictInputSerializer):
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
            "is_active",
            "created_at",
            "updated_at",
        ]
