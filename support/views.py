"""Customer service's screens: find an order (by its number, the customer's email or
phone), read its story, and move a click-and-collect order to the store the customer
now wants to collect at. Thin: the reads are ``support.selectors``, the change is
``pickup.services.pickup_location_change``; who may see which order is
``config.access`` (an order out of reach is a 404, a search that cannot be run or a
change refused a readable message under the field)."""

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from config import access
from config.access import Actor
from config.errors import DomainError, InvalidInput, NotFound
from config.screens import readable, render, staff_screen
from pickup.services import pickup_location_change

from . import selectors


@require_GET
@staff_screen
def find(request: HttpRequest) -> HttpResponse:
    if not access.stores_of(request):
        return render(request, "no_store.html", status=403)
    search = request.GET.get("q")
    context = {"search": search or "", "searched": search is not None}
    if search is None:
        return render(request, "support/find.html", context)
    try:
        found = selectors.orders_found(user=request.user, search=search)
    except InvalidInput as error:
        return render(
            request, "support/find.html", {**context, "error": readable(error)}
        )
    if len(found.orders) == 1:
        return redirect("support:order", order_id=found.orders[0].pk)
    return render(request, "support/find.html", {**context, "found": found})


@require_GET
@staff_screen
def order_page(request: HttpRequest, order_id: int) -> HttpResponse:
    order = selectors.order_for_staff(user=request.user, order_id=order_id)
    story = selectors.order_story(order=order, user=request.user)
    return render(request, "support/order.html", {"story": story, "order": order})


@require_POST
@staff_screen
def change_pickup_store(request: HttpRequest, order_id: int) -> HttpResponse:
    """The customer collects at another store: moved, and the agent told when it is
    ready there; refused, the order's page again with the reason under the field and
    the store chosen kept."""
    order = selectors.order_for_staff(user=request.user, order_id=order_id)
    chosen, store = request.POST.get("pickup_location", ""), None
    try:
        store = selectors.store_chosen(code=chosen)
        pickup_location_change(
            order_id=order.pk,
            pickup_location=store,
            actor=Actor.of_user(request.user),
        )
    except NotFound:
        raise
    except DomainError as refused:
        # Refused, nothing was written: the order read above is as it stands.
        places = [place for place in (order.pickup_location, store) if place]
        return render(
            request,
            "support/order.html",
            {
                "story": selectors.order_story(order=order, user=request.user),
                "order": order,
                "change_refused": selectors.store_change_refused(
                    refused, places=places
                ),
                "chosen": chosen,
            },
        )
    order.refresh_from_db()
    ready = timezone.localtime(order.promised_by, ZoneInfo(store.time_zone or "UTC"))
    told = (
        "The customer has been emailed."
        if order.customer_email
        else "There is no email on the order: call the customer."
    )
    said = (
        f"{store.name} hands the order over now, ready by {ready:%a} {ready.day} "
        f"{ready:%b, %H:%M}. {told}"
    )
    if not selectors.visible_orders(request.user).filter(pk=order.pk).exists():
        # Nothing of it is at the agent's stores any more: their find page says so.
        messages.success(
            request, f"{said} It is {store.name}'s order now, out of your stores."
        )
        return redirect("support:find")
    messages.success(request, said)
    return redirect("support:order", order_id=order.pk)
