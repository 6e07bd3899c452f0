"""Checks that raise cases themselves: the balances against the ledger (drift)."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from catalog.models import Sku
from inventory.models import Location
from inventory.services import balances_rebuild

from ..models import ExceptionKind
from .exceptions import Raised, exception_raise


@dataclass(frozen=True)
class Drift:
    """One SKU at one location whose balance disagreed with the ledger: each field
    that differed, as ``{"stored": …, "ledger": …}`` (as text, for a report)."""

    sku: str
    location: str
    fields: dict[str, dict[str, str]]


def ledger_drift_check(*, repair: bool = True) -> int:
    """How many SKU-locations drifted (see ``ledger_drift_found``)."""
    return len(ledger_drift_found(repair=repair))


@transaction.atomic
def ledger_drift_found(*, repair: bool = True) -> list[Drift]:
    """Compare every balance with the ledger (``inventory.services.balances_rebuild``)
    and raise one case per SKU and location that differed, saying what each field
    held and what the ledger says. The ledger is the truth, so with ``repair`` the
    balance is put right at once; the case is for finding what wrote it."""
    by_place = defaultdict(dict)
    for found in balances_rebuild(repair=repair):
        by_place[(found.sku_code, found.location_code)][found.field] = {
            "stored": str(found.stored),
            "ledger": str(found.from_ledger),
        }
    if not by_place:
        return []
    skus = Sku.objects.in_bulk([sku for sku, _ in by_place], field_name="code")
    locations = Location.objects.in_bulk(
        [location for _, location in by_place], field_name="code"
    )
    drifted = []
    for (sku_code, location_code), fields in sorted(by_place.items()):
        said = "; ".join(
            f"{name} held {sides['stored']}, the ledger says {sides['ledger']}"
            for name, sides in fields.items()
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
                facts=fields,
            )
        )
        drifted.append(Drift(sku=sku_code, location=location_code, fields=fields))
    return drifted
