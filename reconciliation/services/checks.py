"""Checks that raise cases themselves: the balances against the ledger (drift)."""

from collections import defaultdict

from django.db import transaction

from catalog.models import Sku
from inventory.models import Location
from inventory.services import balances_rebuild

from ..models import ExceptionKind
from .exceptions import Raised, exception_raise


@transaction.atomic
def ledger_drift_check(*, repair: bool = True) -> int:
    """Compare every balance with the ledger (``inventory.services.balances_rebuild``)
    and raise one case per SKU and location that differed, saying what each field
    held and what the ledger says. The ledger is the truth, so with ``repair`` the
    balance is put right at once; the case is for finding what wrote it. Returns how
    many SKU-locations drifted."""
    differences = balances_rebuild(repair=repair)
    by_place = defaultdict(list)
    for found in differences:
        by_place[(found.sku_code, found.location_code)].append(found)
    if not by_place:
        return 0
    skus = Sku.objects.in_bulk([sku for sku, _ in by_place], field_name="code")
    locations = Location.objects.in_bulk(
        [location for _, location in by_place], field_name="code"
    )
    for (sku_code, location_code), fields in sorted(by_place.items()):
        said = "; ".join(
            f"{f.field} held {f.stored}, the ledger says {f.from_ledger}"
            for f in fields
        )
        exception_raise(
            raised=Raised(
                kind=ExceptionKind.LEDGER_DRIFT,
                key=f"drift:{sku_code}@{location_code}",
                title=f"{sku_code} at {location_code}: balance disagreed with the ledger",
                detail=f"{said}. "
                + ("Repaired from the ledger; " if repair else "Not repaired yet; ")
                + "find what wrote the balance outside the ledger.",
                sku=skus.get(sku_code),
                location=locations.get(location_code),
                facts={
                    f.field: {"stored": str(f.stored), "ledger": str(f.from_ledger)}
                    for f in fields
                },
            )
        )
    return len(by_place)
