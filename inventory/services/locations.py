"""Writes to the register of locations."""

from datetime import time
from decimal import Decimal

from config.records import UNSET, upsert_by_code

from ..models import Location


def location_upsert(
    *,
    code: str,
    name: str,
    kind: str = UNSET,
    address: str = UNSET,
    city: str = UNSET,
    postal_code: str = UNSET,
    country: str = UNSET,
    latitude: Decimal | None = UNSET,
    longitude: Decimal | None = UNSET,
    time_zone: str = UNSET,
    pickup_enabled: bool = UNSET,
    ship_from_store_enabled: bool = UNSET,
    is_active: bool = UNSET,
    shipping_cost: Decimal = UNSET,
    daily_order_capacity: int | None = UNSET,
    walk_in_buffer: int = UNSET,
    service_radius_km: int | None = UNSET,
    opens_at: time = UNSET,
    pickup_cutoff: time = UNSET,
    pickup_preparation_minutes: int = UNSET,
    pickup_hold_days: int = UNSET,
) -> tuple[Location, bool]:
    fields = {
        "name": name,
        "kind": kind,
        "address": address,
        "city": city,
        "postal_code": postal_code,
        "country": country,
        "latitude": latitude,
        "longitude": longitude,
        "time_zone": time_zone,
        "pickup_enabled": pickup_enabled,
        "ship_from_store_enabled": ship_from_store_enabled,
        "is_active": is_active,
        "shipping_cost": shipping_cost,
        "daily_order_capacity": daily_order_capacity,
        "walk_in_buffer": walk_in_buffer,
        "service_radius_km": service_radius_km,
        "opens_at": opens_at,
        "pickup_cutoff": pickup_cutoff,
        "pickup_preparation_minutes": pickup_preparation_minutes,
        "pickup_hold_days": pickup_hold_days,
    }
    return upsert_by_code(Location, code=code, fields=fields)
