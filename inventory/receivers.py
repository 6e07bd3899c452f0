"""Inventory's answers to what the catalogue announces (``catalog.signals``), which
cannot import inventory.

- ``sku_becoming_kit``: a kit holds no stock of its own, so a SKU that holds stock
  anywhere (any bucket, holds and orders included) stays a plain SKU: a 409
  ``kit_holds_stock`` naming where, and nothing is written.
"""

from catalog.signals import sku_becoming_kit
from inventory.errors import KitHoldsStock
from inventory.models import StockBalance
from inventory.movements import BUCKETS


def refuse_kit_with_stock(*, sku, **_) -> None:
    holding = (
        StockBalance.objects.filter(sku=sku)
        .exclude(**{bucket: 0 for bucket in BUCKETS})
        .select_related("location")
        .order_by("location__code")
    )
    places = [balance.location.code for balance in holding[:6]]
    if places:
        raise KitHoldsStock(
            f"{sku.code} holds stock at {', '.join(places[:5])}"
            f"{' and more' if len(places) > 5 else ''}: a kit holds no stock of its "
            "own. Move the stock to its components first, or make a new SKU the kit.",
            locations=places[:5],
        )


def connect() -> None:
    sku_becoming_kit.connect(
        refuse_kit_with_stock, dispatch_uid="inventory.refuse_kit_with_stock"
    )
