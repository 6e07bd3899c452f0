"""The store team's screens: the pickup queue, one task, and the problems waiting
for a decision. Thin: each action calls one service and answers with the part of
the page it changed (an HTMX request) or the whole page (a plain form post).
Who may see what is decided in ``config.access``; a task elsewhere is a 404.

An action's result is shown where the person's eyes are: a refusal under the form
they used (their input kept, the field marked), a success beside the next thing to
do, which has the focus (the scan field while picking). The task and the problems
follow what others do (``config.screens.live``): a poll answers 204 unless the
region changed, and the region an action answers with carries the digest of the
same region without its result, so the result stays until something else changes."""

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from catalog.selectors import skus_by_code_or_barcode
from config import access
from config.access import Actor
from config.errors import DomainError, InvalidInput, NotFound
from config.screens import (
    chosen_store,
    first_messages,
    live,
    live_digest,
    live_region,
    readable,
    render,
    staff_screen,
    whole_number,
)
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
        return live(request, "pickup/_board.html", context)
    # The region rendered once, digest stamped, into the page (not once more for it).
    board = live_region(request, "pickup/_board.html", context)
    return render(request, "pickup/queue.html", {**context, "region": board})


@require_GET
@staff_screen
def task_page(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    context = _task_context(task, request.user)
    if request.htmx:
        return live(request, "pickup/_task.html", context)
    # The page starts with the digest its first poll compares with.
    region = live_region(request, "pickup/_task.html", context)
    return render(request, "pickup/task.html", {**context, "region": region})


@require_GET
@staff_screen
def substitute_search(request: HttpRequest, problem_id: int) -> HttpResponse:
    """Items found for a substitute, as radio buttons to choose with the keyboard."""
    problem = PickupProblem.objects.select_related("line__sku").filter(pk=problem_id)
    problem = problem.first()
    if problem is None:
        raise Http404("No such problem.")
    task = _visible_task(request, problem.task_id)
    search = request.GET.get("q", "")[:100]
    found = selectors.substitutes_found(
        problem=problem, location=task.location, search=search
    )
    return render(
        request,
        "pickup/_substitutes_found.html",
        {"problem": problem, "found": found, "search": search.strip()},
    )


@require_POST
@staff_screen
def task_action(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    task = _visible_task(request, task_id)
    form, actor = request.POST, Actor.of_user(request.user)
    actions = {
        "scan": lambda: (
            services.pickup_scan(
                task_id=task.pk, actor=actor, scanned=form.get("scanned", "")
            ).words
            + "."
        ),
        "claim": lambda: services.pickup_task_claim(task_id=task.pk, actor=actor),
        "release": lambda: services.pickup_task_release(task_id=task.pk, actor=actor),
        "start": lambda: services.pickup_task_start(task_id=task.pk, actor=actor),
        "short": lambda: services.pickup_line_short(
            task_id=task.pk,
            line_id=whole_number(form, "line"),
            actor=actor,
            quantity=whole_number(form, "quantity"),
            condition=form.get("condition", ""),
            note=form.get("note", ""),
        ),
        "ready": lambda: services.pickup_task_mark_ready(
            task_id=task.pk, actor=actor, hold_slot=_hold_slot(form)
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
    return _act(request, task, actions[action], DONE[action], used=action)


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
        branch = Location.objects.filter(code=code).first() if code else None
        if branch is None:
            raise InvalidInput({"from_location": ["Choose the branch to ask."]})
        services.pickup_problem_source_elsewhere(
            problem_id=problem.pk, actor=actor, from_location=branch
        )

    def substitute() -> None:
        code = form.get("substitute", "").strip()
        if not code:
            raise InvalidInput({"substitute": ["Choose a substitute."]})
        sku = skus_by_code_or_barcode(codes={code}).get(code)
        if sku is None:
            raise InvalidInput(
                {"substitute": ["That item is not in the catalogue: choose another."]}
            )
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
    return _act(request, task, actions[action], DONE[action], used=action, on=problem)


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
    context = {
        "problems": selectors.problems_for(user=request.user),
        "manager": access.sees_every_location(request.user),
    }
    if request.htmx:
        return live(request, "pickup/_problems.html", context)
    region = live_region(request, "pickup/_problems.html", context)
    return render(request, "pickup/problems.html", {**context, "region": region})


DONE = {
    "claim": "Claimed: it is yours to pick.",
    "release": "Released for someone else.",
    "start": "Picking started.",
    "scan": "Picked.",
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


def _act(
    request,
    task: PickupTask,
    action: Callable,
    done: str,
    used: str,
    on: PickupProblem | None = None,
) -> HttpResponse:
    """Run ``action``; answer with the task, the result where the person looks."""
    error, field_errors = "", {}
    try:
        said = action()
    except NotFound:
        raise
    except InvalidInput as invalid:
        error, field_errors = readable(invalid), invalid.field_errors
    except DomainError as refused:
        error = readable(refused)
    else:
        done = said if isinstance(said, str) else done
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect("pickup:task", task_id=task.pk)
    task = selectors.task_queryset().get(pk=task.pk)
    quiet = _task_context(task, request.user)
    # The digest a poll will compare with: the region as it is without the result.
    seen = live_digest(request, "pickup/_task.html", quiet)
    where, problem_id = (
        _shown_at(used, on, quiet) if error else (quiet["next_step"], None)
    )
    result = Result(
        text=error or done,
        error=bool(error),
        # A refusal stays under the form used; a success goes where the focus goes.
        where=where,
        problem_id=problem_id,
        fields=field_errors,
        kept=request.POST,
    )
    context = _task_context(task, request.user, result=result)
    context["seen"] = seen
    return render(request, "pickup/_task.html", context)


def _shown_at(used: str, on: PickupProblem | None, quiet: dict) -> tuple:
    """Where a refusal is shown: under the form used if the screen still shows it,
    else at the top of what to do (someone else took the task meanwhile)."""
    if on is not None:
        if any(problem.pk == on.pk for problem in quiet["open_problems"]):
            return used, on.pk
        return "none", None
    shown = {quiet["next_step"]}
    if quiet["to_pick"]:
        shown |= {"scan", "short"}
    if quiet["may_release"] and quiet["in_hand"]:
        shown.add("release")
    return (used if used in shown else "none"), None


# The fields each form shows its own refusal under (templates/pickup/_field_error.html
# and the problem card's); any other refusal is said in the form's status line.
SAID_AT_FIELD = {
    "short": {"quantity"},
    "hand-over": {"order_reference", "customer_name"},
    "substitute": {"substitute", "customer_answer"},
    "source": {"from_location"},
    "ship-later": {"address", "city", "postal_code", "country"},
}


class Result:
    """An action's outcome for the template: its words, whether it was refused,
    where it is shown (a form's key, and the problem for a problem's form), the
    fields refused and what the person had typed."""

    def __init__(self, *, text, error, where, problem_id, fields, kept):
        self.text, self.error, self.where = text, error, where
        self.problem_id, self.fields, self.kept = problem_id, fields, kept
        self.kind = "error" if error else "success"
        # Each refused field's first message, shown under the field itself.
        self.said = first_messages(fields) if error else {}

    @property
    def in_status(self) -> bool:
        """Whether the form's status line says it: a success, or a refusal not
        shown under the fields it names (each is said once, where it is put right)."""
        if not self.error or not self.said:
            return True
        return not set(self.said) <= SAID_AT_FIELD.get(self.where, set())

    def invalid(self) -> set[str]:
        """The names of the fields refused, however deep the refusal names them
        (a report's quantity is refused as ``lines[0].quantity``)."""
        return set(self.said)


def _task_context(task: PickupTask, user, result: Result | None = None) -> dict:
    problems = list(
        task.problems.select_related(
            "line__sku", "line__kit_line__sku", "transfer__from_location"
        )
    )
    # Decisions are asked for only while the order is still being worked.
    undecided = [
        problem
        for problem in problems
        if problem.status == PickupProblem.Status.OPEN and task.status not in FINAL
    ]
    for problem in undecided:
        problem.branches = selectors.branches_with_stock(task=task, problem=problem)
        problem.suggested = selectors.substitutes_suggested(
            problem=problem, location=task.location
        )
        problem.result = (
            result if result is not None and result.problem_id == problem.pk else None
        )
        # A refused answer keeps the items the picker had searched for, to choose
        # again without typing the search again.
        searched = problem.result.kept.get("q", "") if problem.result else ""
        problem.searched = searched.strip()[:100]
        problem.found_again = (
            selectors.substitutes_found(
                problem=problem, location=task.location, search=problem.searched
            )
            if problem.result and problem.result.error and problem.searched
            else None
        )
    lines = selectors.task_lines(task=task)
    is_mine = task.claimed_by_id == user.pk
    to_pick = [line for line in lines if line.unpicked_quantity > 0]
    picking = task.status == PickupTask.Status.PICKING and is_mine
    context = {
        "task": task,
        "order": task.order,
        "location": task.location,
        "lines": lines,
        "to_pick": to_pick if picking else [],
        "problems": problems,
        "open_problems": undecided,
        # Picking is the claimer's; anyone else sees who has it, and a manager may
        # free it for someone else.
        "is_mine": is_mine,
        "in_hand": task.status in IN_HAND,
        "may_release": task.claimed_by_id is not None
        and (task.claimed_by_id == user.pk or access.sees_every_location(user)),
        "events": list(task.events.all()),
        "notices": list(task.notices.all()),
        "conditions": PickupProblem.Condition.choices,
        "late": task.status in LATE_WHILE and task.due_at < timezone.now(),
        "result": result,
        "invalid": result.invalid() if result else set(),
    }
    context["next_step"] = _next_step(context)
    # A refusal keeps the focus in the form used; otherwise the next thing to do.
    context["focus"] = result.where if result and result.error else context["next_step"]
    return context


# Before the customer is told it is ready, a task past its due time is late.
LATE_WHILE = frozenset(
    {
        PickupTask.Status.NEW,
        PickupTask.Status.CLAIMED,
        PickupTask.Status.PICKING,
        PickupTask.Status.ON_HOLD,
        PickupTask.Status.PICKED,
    }
)


def _next_step(context: dict) -> str:
    """The key of the one thing to do next on this task, which gets the focus."""
    task, status = context["task"], context["task"].status
    if task.claimed_by_id is None and status == PickupTask.Status.NEW:
        return "claim"
    if task.claimed_by_id is None and context["in_hand"]:
        return "claim"
    if task.claimed_by_id is not None and not context["is_mine"] and context["in_hand"]:
        return "none"
    if status == PickupTask.Status.CLAIMED:
        return "start"
    if context["to_pick"]:
        return "scan"
    if context["open_problems"]:
        return "problem"
    return {
        PickupTask.Status.PICKED: "ready",
        PickupTask.Status.READY: "hand-over",
        PickupTask.Status.COLLECTED: "close",
    }.get(status, "none")


def _hold_slot(form) -> str:
    """On the screen a task is marked ready with its shelf named: the counter must
    find it when the customer comes."""
    slot = form.get("hold_slot", "").strip()
    if not slot:
        raise InvalidInput({"hold_slot": ["Say which shelf or bin it waits on."]})
    return slot


def _visible_task(request: HttpRequest, task_id: int) -> PickupTask:
    task = selectors.task_for_staff(user=request.user, task_id=task_id)
    if task is None:
        raise Http404("No such pickup task.")
    return task
