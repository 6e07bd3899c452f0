"""The store team's screens: the pickup queue, one task, and the problems waiting
for a decision. Thin: each action calls one service and answers with the part of
the page it changed (an HTMX request) or the whole page (a plain form post).
Who may see what is decided in ``config.access``; a task elsewhere is a 404."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from catalog.selectors import skus_by_code_or_barcode
from config import access
from config.access import Actor
from config.errors import DomainError, InvalidInput, NotFound
from config.screens import chosen_store, readable, render, staff_screen, whole_number
from inventory.models import Location

from . import selectors, services
from .models import PickupProblem, PickupTask
from .services import FINAL

# Between the claim and the customer being told: a picker has the task in hand.
IN_HAND = frozenset(
    {
        PickupTask.Status.CLAIMED,
        PickupTask.Status.PICKING,
        PickupTask.Status.ON_HOLD,
        PickupTask.Status.PICKED,
    }
)


@require_GET
@staff_screen
def queue(request: HttpRequest) -> HttpResponse:
    locations = access.stores_of(request)
    location = chosen_store(request, locations)
    if location is None:
        return render(request, "no_store.html", status=403)
    context = {
        "location": location,
        "locations": locations,
        "open_counts": selectors.location_counts(locations=locations),
        **selectors.store_queue(location=location, search=request.GET.get("q", "")),
        **selectors.store_side_work(location=location),
    }
    if request.htmx and request.htmx.target == "board":
        return render(request, "pickup/_board.html", context)
    return render(request, "pickup/queue.html", context)


@require_GET
@staff_screen
def task_page(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    return render(request, "pickup/task.html", _task_context(task, request.user))


@require_POST
@staff_screen
def task_action(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    task = _visible_task(request, task_id)
    form, actor = request.POST, Actor.of_user(request.user)
    actions = {
        "claim": lambda: services.pickup_task_claim(task_id=task.pk, actor=actor),
        "release": lambda: services.pickup_task_release(task_id=task.pk, actor=actor),
        "start": lambda: services.pickup_task_start(task_id=task.pk, actor=actor),
        "pick": lambda: services.pickup_line_pick(
            task_id=task.pk,
            line_id=whole_number(form, "line"),
            actor=actor,
            scanned=form.get("scanned", ""),
        ),
        "short": lambda: services.pickup_line_short(
            task_id=task.pk,
            line_id=whole_number(form, "line"),
            actor=actor,
            quantity=whole_number(form, "quantity"),
            condition=form.get("condition", ""),
            note=form.get("note", ""),
        ),
        "ready": lambda: services.pickup_task_mark_ready(
            task_id=task.pk, actor=actor, hold_slot=form.get("hold_slot", "")
        ),
        "hand-over": lambda: services.pickup_task_hand_over(
            task_id=task.pk,
            actor=actor,
            collection_code=form.get("collection_code", ""),
            order_reference=form.get("order_reference", ""),
            customer_name=form.get("customer_name", ""),
        ),
        "close": lambda: services.pickup_task_close(task_id=task.pk, actor=actor),
    }
    if action not in actions:
        raise Http404("No such action.")
    return _act(request, task, actions[action], DONE[action])


@require_POST
@staff_screen
def problem_action(request: HttpRequest, problem_id: int, action: str) -> HttpResponse:
    problem = PickupProblem.objects.filter(pk=problem_id).first()
    if problem is None:
        raise Http404("No such problem.")
    task = _visible_task(request, problem.task_id)
    form, actor = request.POST, Actor.of_user(request.user)

    def source() -> None:
        code = form.get("from_location", "")
        branch = Location.objects.filter(code=code).first()
        if branch is None:
            raise InvalidInput({"from_location": ["Choose the branch to ask."]})
        services.pickup_problem_source_elsewhere(
            problem_id=problem.pk, actor=actor, from_location=branch
        )

    def substitute() -> None:
        code = form.get("substitute", "").strip()
        sku = skus_by_code_or_barcode(codes={code}).get(code) if code else None
        if sku is None:
            raise InvalidInput({"substitute": [f"No SKU {code!r}."]})
        services.pickup_problem_substitute(
            problem_id=problem.pk,
            actor=actor,
            substitute=sku,
            customer_answer=form.get("customer_answer", ""),
        )

    actions = {
        "source": source,
        "substitute": substitute,
        "ship-later": lambda: services.pickup_problem_ship_later(
            problem_id=problem.pk,
            actor=actor,
            address=services.Address(
                address=form.get("address", ""),
                city=form.get("city", ""),
                postal_code=form.get("postal_code", ""),
                country=form.get("country", ""),
            ),
        ),
        "cancel": lambda: services.pickup_problem_cancel(
            problem_id=problem.pk, actor=actor
        ),
    }
    if action not in actions:
        raise Http404("No such action.")
    return _act(request, task, actions[action], DONE[action])


@require_POST
@staff_screen
def side_work_action(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    """Transfers sent and received, units put back on the shelf: from the queue."""
    actor = Actor.of_user(request.user)
    actions = {
        "dispatch": lambda: services.pickup_transfer_dispatch(
            transfer_id=item_id, actor=actor
        ),
        "receive": lambda: services.pickup_transfer_receive(
            transfer_id=item_id, actor=actor
        ),
        "put-away": lambda: services.return_to_stock_put_away(
            task_id=item_id, actor=actor
        ),
    }
    if kind not in actions:
        raise Http404("No such action.")
    try:
        actions[kind]()
        messages.success(request, DONE[kind])
    except NotFound:
        raise
    except DomainError as refused:
        messages.error(request, readable(refused))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("pickup:queue")
    return redirect(back)


@require_GET
@staff_screen
def problems(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pickup/problems.html",
        {
            "problems": selectors.problems_for(user=request.user),
            "manager": access.sees_every_location(request.user),
        },
    )


DONE = {
    "claim": "Claimed: it is yours to pick.",
    "release": "Released for someone else.",
    "start": "Picking started.",
    "pick": "Picked into the hold area.",
    "short": "Recorded. Decide what the customer gets below.",
    "ready": "Ready: the customer has been told.",
    "hand-over": "Handed over.",
    "close": "Closed.",
    "source": "Transfer requested from the other branch.",
    "substitute": "Substitute recorded.",
    "ship-later": "Delivery order placed; the customer has been told.",
    "cancel": "Cancelled; the customer has been told.",
    "dispatch": "Marked as sent.",
    "receive": "Received: the units are back on the order to pick.",
    "put-away": "Back on the shelf: available again.",
}


def _act(request, task: PickupTask, action: Callable, done: str) -> HttpResponse:
    error, field_errors = "", {}
    try:
        action()
    except NotFound:
        raise
    except InvalidInput as invalid:
        error, field_errors = readable(invalid), invalid.field_errors
    except DomainError as refused:
        error = readable(refused)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect("pickup:task", task_id=task.pk)
    task = selectors.task_queryset().get(pk=task.pk)
    context = _task_context(task, request.user)
    context.update(error=error, field_errors=field_errors, done="" if error else done)
    return render(request, "pickup/_task.html", context)


def _task_context(task: PickupTask, user) -> dict:
    problems = list(
        task.problems.select_related("line__sku", "transfer__from_location")
    )
    # Decisions are asked for only while the order is still being worked.
    undecided = [
        problem
        for problem in problems
        if problem.status == PickupProblem.Status.OPEN and task.status not in FINAL
    ]
    for problem in undecided:
        problem.branches = selectors.branches_with_stock(task=task, problem=problem)
    return {
        "task": task,
        "order": task.order,
        "location": task.location,
        "lines": selectors.task_lines(task=task),
        "problems": problems,
        "open_problems": undecided,
        # Picking is the claimer's; anyone else sees who has it, and a manager may
        # free it for someone else.
        "is_mine": task.claimed_by_id == user.pk,
        "in_hand": task.status in IN_HAND,
        "may_release": task.claimed_by_id is not None
        and (task.claimed_by_id == user.pk or access.sees_every_location(user)),
        "events": list(task.events.all()),
        "notices": list(task.notices.all()),
        "conditions": PickupProblem.Condition.choices,
    }


def _visible_task(request: HttpRequest, task_id: int) -> PickupTask:
    task = selectors.task_for_staff(user=request.user, task_id=task_id)
    if task is None:
        raise Http404("No such pickup task.")
    return task
