"""Reads of returns: for the API, the store's screens (what is expected, what waits
for inspection, finding the purchase at the counter) and the managers' insight."""

from django.db.models import Prefetch, Q, QuerySet

from inventory.models import Location
from orders.models import Order, OrderLine

from .models import Return, ReturnEvent, ReturnInspection, ReturnLine

# The counter's search shows this many purchases at most: enough for a name, not a
# dump of the order book.
SEARCH_LIMIT = 20


def return_queryset() -> QuerySet[Return]:
    return Return.objects.select_related(
        "channel", "location", "order"
    ).prefetch_related(
        Prefetch(
            "lines",
            ReturnLine.objects.select_related("sku", "order_line").prefetch_related(
                Prefetch(
                    "inspections",
                    ReturnInspection.objects.select_related("graded_by"),
                )
            ),
        ),
        Prefetch("events", ReturnEvent.objects.order_by("at", "id")),
    )


def return_for_staff(*, locations: list[Location], return_id: int) -> Return | None:
    return return_queryset().filter(location__in=locations, pk=return_id).first()


def store_returns(*, location: Location) -> dict:
    """The store's returns screen: parcels on their way, units waiting for a grade
    (oldest first: they are the ones going overdue), and today's graded."""
    here = return_queryset().filter(location=location)
    return {
        "expected": list(here.filter(status=Return.Status.EXPECTED).order_by("id")),
        "to_inspect": list(
            here.filter(status__in=Return.AWAITING_GRADE).order_by("received_at", "id")
        ),
        "graded": list(
            here.filter(status=Return.Status.GRADED).order_by("-graded_at")[:20]
        ),
    }


def purchases_matching(*, search: str) -> list[Order]:
    """Orders of any channel a customer may be bringing back: by order number (typed
    or scanned from the receipt's barcode), name, email, or a scanned item."""
    search = search.strip()
    if len(search) < 2:
        return []
    fulfilled = OrderLine.objects.filter(fulfilled_quantity__gt=0)
    by_item = fulfilled.filter(
        Q(sku__barcode=search) | Q(sku__code__iexact=search)
    ).values("order_id")
    return list(
        Order.objects.filter(
            Q(reference__iexact=search)
            | Q(customer_name__icontains=search)
            | Q(customer_email__iexact=search)
            | Q(pk__in=by_item)
        )
        .filter(lines__in=fulfilled)
        .distinct()
        .select_related("channel")
        .order_by("-placed_at")[:SEARCH_LIMIT]
    )


def expected_matching(*, location: Location, search: str) -> list[Return]:
    """Announced returns for this store the customer may be carrying: by return
    number, order number or name."""
    search = search.strip()
    if len(search) < 2:
        return []
    return list(
        return_queryset()
        .filter(location=location, status=Return.Status.EXPECTED)
        .filter(
            Q(reference__iexact=search)
            | Q(order__reference__iexact=search)
            | Q(customer_name__icontains=search)
        )[:SEARCH_LIMIT]
    )
