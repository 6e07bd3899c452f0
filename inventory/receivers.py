"""Inventory's answers to what the catalogue announces (``catalog.signals``), which
cannot import inventory.

- ``sku_becoming_kit``: a kit holds no stock of its own, so a SKU that holds stock
  anywhere, or ever did (a balance, even at zero), stays a plain SKU: a 409
  ``kit_holds_stock`` naming where, and nothing is written.
- ``kit_redefined``: what the kit can sell changed with no stock moving; its parts'
  balances are announced again (``terms_announce``), and the kit's row goes out with
  them to the feed and the webhooks (``sync``), its sequence moved by the revision.
"""

from django.db import transaction

from catalog.signals import kit_redefined, sku_becoming_kit
from inventory.errors import KitHoldsStock
from inventory.models import StockBalance
from inventory.services.terms import terms_announce


def refuse_kit_with_stock(*, sku, **_) -> None:
    # Any balance at all, even at zero: it has a history on the ledger (counts,
    # snapshots and rebuilds read it), which a kit never has.
    holding = (
        StockBalance.objects.filter(sku=sku)
        .select_related("location")
        .order_by("location__code")
    )
    places = [balance.location.code for balance in holding[:6]]
    if places:
        raise KitHoldsStock(
            f"{sku.code} has stock, or had, at {', '.join(places[:5])}"
            f"{' and more' if len(places) > 5 else ''}: a kit holds no stock of its "
            "own and has no stock history. Make a new SKU the kit.",
            locations=places[:5],
        )


def announce_kit_parts(*, components, **_) -> None:
    # After the commit, in a transaction of its own: the kit's service holds its
    # parts' SKU rows, which a pre-order locks after their balances.
    transaction.on_commit(
        lambda: terms_announce(
            keys=set(
                StockBalance.objects.filter(sku_id__in=components).values_list(
                    "sku_id", "location_id"
                )
            )
        )
    )


def connect() -> None:
    sku_becoming_kit.connect(
        refuse_kit_with_stock, dispatch_uid="inventory.refuse_kit_with_stock"
    )
    kit_redefined.connect(announce_kit_parts, dispatch_uid="inventory.kit_parts")
