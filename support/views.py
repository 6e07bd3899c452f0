"""Customer service's screens: find an order (by its number, the customer's email or
phone) and read its story. Thin: the reads are ``support.selectors``; who may see
which order is ``config.access`` (an order out of reach is a 404, a search that
cannot be run a readable message under the field)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from config import access
from config.errors import InvalidInput
from config.screens import readable, render, staff_screen

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
