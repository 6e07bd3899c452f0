"""The screens of reconciliation, under /store/: the exception queue a manager works
through each morning (store staff see their own store's), one case with its timeline
and the forms to assign, comment and resolve; blind counts (the store's list, the
scan-friendly count screen, the manager's review of variances); and Inventory Record
Accuracy over time. The queue and a case's facts and timeline follow what others do
(``config.screens.live``); forms stay outside what is refreshed. Thin: each action
calls one service."""

from datetime import date, timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_GET, require_POST

from config import access
from config.access import Actor
from config.errors import DomainError, InvalidInput, NotFound
from config.moments import FIRST_DAY, LAST_DAY
from config.replicas import reads_from_replica
from config.screens import (
    chosen_store,
    live,
    live_region,
    readable,
    render,
    staff_screen,
    whole_number,
)

from . import selectors
from .models import CountLine, CountTask, ExceptionCase, ExceptionKind, Resolution
from .services import counts as counting
from .services import (
    exception_assign,
    exception_comment,
    exception_resolve,
)

ACCURACY_DEFAULT_DAYS = 30
# A period longer than this is a typo, not a question.
ACCURACY_MAX_DAYS = 366


def _no_store(request: HttpRequest) -> HttpResponse:
    return render(request, "no_store.html", status=403)


def _manager(request: HttpRequest) -> bool:
    return access.sees_every_location(request.user)


# ------------------------------------------------------------ exception queue


@require_GET
@staff_screen
def exception_queue(request: HttpRequest) -> HttpResponse:
    locations = access.stores_of(request)
    if not locations:
        return _no_store(request)
    by_code = {location.code: location for location in locations}
    wanted = request.GET.get("location", "")
    # A manager starts on every location; staff on their own store.
    location = by_code.get(wanted)
    if location is None and not (_manager(request) and wanted in ("", "all")):
        location = chosen_store(request, locations)
    filters = {
        "status": request.GET.get("status", "open"),
        "kind": request.GET.get("kind", ""),
        "age": request.GET.get("age", ""),
        "assignee": request.GET.get("assignee", ""),
    }
    if filters["status"] not in ("open", "resolved"):
        filters["status"] = "open"
    if filters["kind"] not in ExceptionKind.values:
        filters["kind"] = ""
    if filters["age"] not in selectors.AGES:
        filters["age"] = ""
    visible = selectors.exceptions_visible_to(request.user)
    cases = selectors.exceptions_filtered(
        visible, location=location, user=request.user, **filters
    )
    if filters["status"] == "resolved":
        cases = cases.order_by("-resolved_at")
    now = timezone.now()
    rows = [(case, selectors.ageing(case, now)) for case in cases[:200]]
    context = {
        "location": location,
        "locations": locations,
        "manager": _manager(request),
        "filters": filters,
        "kinds": ExceptionKind.choices,
        "ages": [
            ("overdue", "Past its target"),
            ("1d", "Older than a day"),
            ("3d", "Older than 3 days"),
            ("7d", "Older than a week"),
        ],
        "rows": rows,
        "total": cases.count(),
        "by_kind": _by_kind(
            selectors.exception_counts(
                visible.filter(location=location) if location else visible
            )
        ),
        # The list polls the address it was filtered with (the filters stay).
        "list_url": request.get_full_path(),
    }
    region = "reconciliation/_exception_list.html"
    if request.htmx and request.htmx.target == "exception-list":
        return live(request, region, context)
    context["list"] = live_region(request, region, context)
    return render(request, "reconciliation/exceptions.html", context)


def _by_kind(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [
        (label, counts[kind]) for kind, label in ExceptionKind.choices if kind in counts
    ]


def _case(request: HttpRequest, case_id: int) -> ExceptionCase:
    case = selectors.exceptions_visible_to(request.user).filter(pk=case_id).first()
    if case is None:
        raise Http404("No such exception.")
    return case


# Where a case's cause is worked on, in words (its link is an address).
WORK_ON_IT = [
    ("/store/tasks/", "Open the pickup task"),
    ("/store/counts/", "Review the count"),
    ("/store/returns/", "Open the return"),
    ("/store/reconciliation/", "Open the reconciliation run"),
    ("/store/sync/", "Open channel sync"),
    ("/store/", "Open the pickup queue"),
]
# The parts of a case's page that follow what others do; its forms stay put.
CASE_REGIONS = {
    "case-facts": "reconciliation/_case_facts.html",
    "case-timeline": "reconciliation/_case_timeline.html",
}


def _work_on_it(link: str) -> str:
    return next((words for start, words in WORK_ON_IT if link.startswith(start)), "")


def _case_context(
    request: HttpRequest, case: ExceptionCase, *, regions: bool = True, **extra
) -> dict:
    manager = _manager(request)
    context = {
        "case": case,
        "location": case.location,
        "ageing": selectors.ageing(case),
        "events": list(case.events.all()),
        "people": selectors.assignable_people(case),
        "resolutions": [
            (value, label)
            for value, label in Resolution.choices
            if value != Resolution.SETTLED_AT_SOURCE
            and (value != Resolution.STOCK_ADJUSTED or manager)
        ],
        "may_adjust": manager and case.sku_id and case.location_id,
        "known": selectors.known_difference(case),
        # "Stock adjusted", without the form's "(posts an adjustment)".
        "resolved_as": case.get_resolution_display().split(" (")[0],
        "manager": manager,
        "case_url": reverse("reconciliation:exception", args=[case.pk]),
        "work_on_it": _work_on_it(case.link) or "Open where it is worked on",
        "given": {},
        "invalid": (),
        **extra,
    }
    if regions:  # the whole page or panel: each live region with its digest
        for target, template in CASE_REGIONS.items():
            context[target.replace("-", "_")] = live_region(request, template, context)
    return context


@require_GET
@staff_screen
def exception_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    if request.htmx and request.htmx.target in CASE_REGIONS:
        context = _case_context(request, case, regions=False)
        return live(request, CASE_REGIONS[request.htmx.target], context)
    return render(
        request, "reconciliation/exception.html", _case_context(request, case)
    )


@require_POST
@staff_screen
def exception_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    case = _case(request, case_id)
    form = request.POST
    done = {
        "assign": "Assigned.",
        "comment": "Comment added.",
        "resolve": "Resolved.",
    }
    if action not in done:
        raise Http404("No such action.")
    error, invalid = "", ()
    try:
        if action == "assign":
            chosen = form.get("assignee", "").strip()
            exception_assign(
                case_id=case.pk,
                assignee_id=whole_number(form, "assignee") if chosen else None,
                actor=Actor.of_user(request.user),
            )
        elif action == "comment":
            exception_comment(
                case_id=case.pk,
                text=form.get("comment", ""),
                actor=Actor.of_user(request.user),
            )
        else:
            raw = form.get("adjustment", "").strip()
            exception_resolve(
                case_id=case.pk,
                resolution=form.get("resolution", ""),
                note=form.get("note", ""),
                adjustment=whole_number(form, "adjustment") if raw else None,
                actor=Actor.of_user(request.user),
            )
    except InvalidInput as refused:
        error, invalid = readable(refused), tuple(refused.field_errors)
    except NotFound as missing:
        raise Http404(missing.message) from missing
    except DomainError as refused:
        error = readable(refused)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done[action])
        return redirect("reconciliation:exception", case_id=case.pk)
    case = _case(request, case_id)
    context = _case_context(
        request,
        case,
        error=error,
        notice="" if error else done[action],
        # The result is shown by the form that was sent, which keeps what was typed.
        acted=action,
        given=form if error else {},
        invalid=invalid,
    )
    # htmx swaps only successful responses: the refusal is shown in the panel.
    return render(request, "reconciliation/_case.html", context)


# ------------------------------------------------------------------ counts


@require_GET
@staff_screen
def counts_home(request: HttpRequest) -> HttpResponse:
    locations = access.stores_of(request)
    location = chosen_store(request, locations)
    if location is None:
        return _no_store(request)
    return render(
        request,
        "reconciliation/counts.html",
        {
            "location": location,
            "locations": locations,
            "manager": _manager(request),
            **selectors.counts_at(location=location),
        },
    )


@require_POST
@staff_screen
def count_start(request: HttpRequest) -> HttpResponse:
    locations = access.stores_of(request)
    location = chosen_store(request, locations)
    if location is None:
        return _no_store(request)
    codes = request.POST.get("sku_codes", "").replace(",", "\n").splitlines()
    try:
        task = counting.count_task_start(
            location=location,
            sku_codes=codes,
            note=request.POST.get("note", ""),
            actor=Actor.of_user(request.user),
        )
    except DomainError as refused:
        messages.error(request, readable(refused))
        return redirect("reconciliation:counts")
    messages.success(request, f"Count #{task.pk} started: {task.lines.count()} SKU(s).")
    return redirect("reconciliation:count", task_id=task.pk)


def _task(request: HttpRequest, task_id: int) -> CountTask:
    task = CountTask.objects.select_related("location").filter(pk=task_id).first()
    if task is None or task.location not in access.stores_of(request):
        raise Http404("No such count.")
    return task


def _count_context(request: HttpRequest, task: CountTask, **extra) -> dict:
    # Blind: the lines carry what the counter counted, never the system's figure.
    lines = list(
        task.lines.select_related("sku").filter(
            status__in=(CountLine.Status.TO_COUNT, CountLine.Status.TO_RECOUNT)
        )
    )
    counted = sum(1 for line in lines if line.counted is not None)
    return {
        "task": task,
        "location": task.location,
        "lines": lines,
        "counted": counted,
        # What Finish records as none found: asked about before it is sent.
        "not_counted": len(lines) - counted,
        "counting": task.status in CountTask.COUNTING,
        "manager": _manager(request),
        **extra,
    }


@require_GET
@staff_screen
def count_page(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _task(request, task_id)
    return render(request, "reconciliation/count.html", _count_context(request, task))


@require_POST
@staff_screen
def count_action(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    task = _task(request, task_id)
    form = request.POST
    error, notice, status = "", "", 200
    try:
        if action == "scan":
            quantity = whole_number(form, "quantity") if form.get("quantity") else 1
            line = counting.count_line_scan(
                task_id=task.pk,
                code=form.get("code", ""),
                quantity=quantity,
                actor=Actor.of_user(request.user),
            )
            notice = f"{line.sku.code}: {line.counted} counted."
        elif action == "set":
            line = counting.count_line_set(
                task_id=task.pk,
                line_id=whole_number(form, "line"),
                quantity=whole_number(form, "quantity"),
                actor=Actor.of_user(request.user),
            )
            notice = f"{line.sku.code}: {line.counted} counted."
        elif action == "submit":
            task = counting.count_task_submit(
                task_id=task.pk,
                actor=Actor.of_user(request.user),
                shown_status=form.get("shown_status") or None,
            )
            messages.success(request, _submitted(task))
            return redirect("reconciliation:count", task_id=task.pk)
        elif action == "cancel":
            counting.count_task_cancel(
                task_id=task.pk,
                note=form.get("note", ""),
                actor=Actor.of_user(request.user),
            )
            messages.success(request, "Count cancelled.")
            return redirect("reconciliation:counts")
        elif action == "decide":
            return _decide(request, task)
        else:
            raise Http404("No such action.")
    except InvalidInput as invalid:
        error, status = readable(invalid), 400
    except NotFound as missing:
        raise Http404(missing.message) from missing
    except DomainError as refused:
        error, status = readable(refused), 409
    task.refresh_from_db()
    context = _count_context(request, task, error=error, notice=notice)
    if action == "scan":
        # The answer to a scan says so: the page puts its message beside the scan
        # field, and a refused code back in it (selected, marked) for the next scan
        # to replace.
        context["scan_answer"] = "refused" if error else "counted"
        context["refused_code"] = form.get("code", "").strip() if error else ""
    if request.htmx:
        # htmx swaps only successful responses: the refusal is shown in the list.
        return render(request, "reconciliation/_count_lines.html", context)
    return render(request, "reconciliation/count.html", context, status=status)


def _submitted(task: CountTask) -> str:
    if task.status == CountTask.Status.RECOUNT:
        return "Some items need counting again: count them once more."
    if task.status == CountTask.Status.AWAITING_APPROVAL:
        return "Count sent: a manager will look at the differences."
    return "Count done: thank you."


def _decide(request: HttpRequest, task: CountTask) -> HttpResponse:
    """A manager approves or rejects one line's variance; a refusal comes back on
    the review beside that line, with the note as typed."""
    if not _manager(request):
        raise Http404("No such review.")  # staff count blind: no figures, not even here
    form = request.POST
    try:
        line = counting.count_line_decide(
            task_id=task.pk,
            line_id=whole_number(form, "line"),
            approve=form.get("decision") == "approve",
            note=form.get("note", ""),
            actor=Actor.of_user(request.user),
        )
    except NotFound as missing:
        raise Http404(missing.message) from missing
    except DomainError as refused:
        status = 400 if isinstance(refused, InvalidInput) else 409
        context = _review_context(
            task, error=readable(refused), given=form, on_line=form.get("line", "")
        )
        return render(
            request, "reconciliation/count_review.html", context, status=status
        )
    messages.success(request, f"{line.sku.code}: {line.get_status_display()}.")
    return redirect("reconciliation:count-review", task_id=task.pk)


@require_GET
@staff_screen
def count_review(request: HttpRequest, task_id: int) -> HttpResponse:
    if not _manager(request):
        raise Http404("No such review.")
    task = _task(request, task_id)
    return render(request, "reconciliation/count_review.html", _review_context(task))


def _review_context(task: CountTask, **extra) -> dict:
    labels = dict(CountTask.Status.choices)
    lines = list(task.lines.select_related("sku", "posted"))
    waiting = {
        str(line.pk)
        for line in lines
        if line.status == CountLine.Status.AWAITING_APPROVAL
    }
    return {
        "task": task,
        "location": task.location,
        "lines": lines,
        # A refusal is shown beside its line; one about no line, above the table.
        "error_by_line": extra.get("on_line") in waiting,
        # The count's timeline in words: "Variance awaiting approval", not its code.
        "timeline": [
            {
                "event": event,
                "from": labels.get(event.from_status, event.from_status),
                "to": labels.get(event.to_status, event.to_status),
            }
            for event in task.events.all()
        ],
        "given": {},
        **extra,
    }


# ---------------------------------------------------------------- accuracy


@require_GET
@staff_screen
@reads_from_replica
def accuracy(request: HttpRequest) -> HttpResponse:
    locations = access.stores_of(request)
    if not locations:
        return _no_store(request)
    since, until, errors = period_asked(request, ACCURACY_DEFAULT_DAYS)
    report = selectors.record_accuracy(start=since, end=until, locations=locations)
    return render(
        request,
        "reconciliation/accuracy.html",
        {
            "since": since,
            "until": until,
            "errors": errors,
            "report": report,
            "overall": report.at(None, None),
            "per_location": [
                (location, report.at(location.pk, None)) for location in locations
            ],
            "daily": [(day, report.at(None, day)) for day in report.days],
            "chart_days": _chart_days(report),
        },
    )


def period_asked(request: HttpRequest, default_days: int) -> tuple[date, date, list]:
    """The period in ``?since=&until=`` (days, inclusive), else the last
    ``default_days``; an impossible one is a message and the default instead."""
    today = timezone.localdate()
    default = today - timedelta(days=default_days - 1), today
    since = _date(request, "since") or default[0]
    until = _date(request, "until") or default[1]
    errors = []
    if since > until:
        errors.append("The period ends before it starts.")
    elif (until - since).days >= ACCURACY_MAX_DAYS:
        errors.append(f"Ask for at most {ACCURACY_MAX_DAYS} days at a time.")
    if errors:
        since, until = default
    return since, until, errors


def _date(request: HttpRequest, name: str) -> date | None:
    try:
        found = parse_date(request.GET.get(name, ""))
    except ValueError:
        return None
    if found is None or not (FIRST_DAY <= found <= LAST_DAY):
        return None
    return found


def _chart_days(report: selectors.AccuracyReport) -> list[dict]:
    """Overall IRA per day, the days with a count only: the points
    ``static/js/dashboard.js`` draws as a line (nothing loaded from the internet)."""
    return [
        {"day": day, "percent": cell.percent}
        for day in report.days
        if (cell := report.at(None, day)).percent is not None
    ]
