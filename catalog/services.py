"""Writes to the catalogue. Each function is one transaction and returns what it wrote,
with whether it was created. Keywords left out keep their current value."""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from config.records import UNSET, upsert_by_code

from .kits import kit_components_set
from .models import Channel, Product, Sku


def product_upsert(
    *,
    code: str,
    name: str,
    brand: str = UNSET,
    description: str = UNSET,
    is_active: bool = UNSET,
) -> tuple[Product, bool]:
    fields = {
        "name": name,
        "brand": brand,
        "description": description,
        "is_active": is_active,
    }
    return upsert_by_code(Product, code=code, fields=fields)


def sku_upsert(
    *,
    code: str,
    name: str,
    product: Product | None = UNSET,
    barcode: str = UNSET,
    attributes: dict[str, Any] = UNSET,
    safety_buffer: int | None = UNSET,
    cost: Decimal | None = UNSET,
    price: Decimal | None = UNSET,
    future_promise_limit: int = UNSET,
    is_active: bool = UNSET,
    components: Sequence[tuple[Sku, int]] = UNSET,
) -> tuple[Sku, bool]:
    """The SKU's own fields, and with ``components`` what it is a kit of (an empty
    list: a plain SKU again), in one transaction (``catalog.kits``)."""
    fields = {
        "name": name,
        "product": product,
        "barcode": barcode,
        "attributes": attributes,
        "safety_buffer": safety_buffer,
        "cost": cost,
        "price": price,
        "future_promise_limit": future_promise_limit,
        "is_active": is_active,
    }
    with transaction.atomic():
        sku, created = upsert_by_code(Sku, code=code, fields=fields)
        if components is not UNSET:
            kit_components_set(kit=sku, components=components)
    return sku, created


def channel_upsert(
    *,
    code: str,
    name: str,
    kind: str = UNSET,
    safety_buffer: int = UNSET,
    buffer_policy: str = UNSET,
    reservation_ttl_seconds: int = UNSET,
    allow_future_by_default: bool = UNSET,
    allow_kit_split: bool = UNSET,
    is_active: bool = UNSET,
) -> tuple[Channel, bool]:
    """The channel's own fields. Its network (``sells_from``) is inventory's, written
    with it in one transaction by ``inventory.services.networks``."""
    fields = {
        "name": name,
        "kind": kind,
        "safety_buffer": safety_buffer,
        "buffer_policy": buffer_policy,
        "reservation_ttl_seconds": reservation_ttl_seconds,
        "allow_future_by_default": allow_future_by_default,
        "allow_kit_split": allow_kit_split,
        "is_active": is_active,
    }
    return upsert_by_code(Channel, code=code, fields=fields)
