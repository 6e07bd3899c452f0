"""How far apart two figures of the same stock may be before a person must look:
a number of units or a percentage of the records' figure, whichever is wider. Counts
and snapshot comparisons both use it."""

from decimal import Decimal


def within_tolerance(
    *, theirs: int, ours: int, units: int, percent: Decimal | float
) -> bool:
    allowed = max(Decimal(units), Decimal(str(percent)) * abs(Decimal(ours)) / 100)
    return abs(theirs - ours) <= allowed
