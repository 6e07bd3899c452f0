"""Reads of reconciliation: the exception queue as someone may see it, filtered and
aged against each kind's target, with the difference a case's facts point to; the
counts a store has to do; and Inventory Record Accuracy per location and day."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from config import access
from config.plain_words import duration
from inventory.models import Location

from .models import CountLine, CountTask, ExceptionCase, ExceptionKind

# The age filter's choices: a case older than this many hours.
AGES = {"overdue": None, "1d": 24, "3d": 72, "7d": 168}


def target_hours(kind: str) -> int:
    return settings.EXCEPTION_TARGET_HOURS.get(kind, 24)


@dataclass(frozen=True)
class Ageing:
    hours: float
    target: int

    @property
    def overdue(self) -> bool:
        return self.hours > self.target

    @property
    def age(self) -> timedelta:
        return timedelta(hours=self.hours)

    @property
    def target_span(self) -> timedelta:
        return timedelta(hours=self.target)

    @property
    def late(self) -> timedelta:
        """How far past its target (nothing while within it)."""
        return max(self.age - self.target_span, timedelta(0))

    @property
    def waited(self) -> str:
        """How long, in words: "less than a minute" at first, not the seconds, so a
        case's facts (polled every few seconds) do not change on every poll."""
        if self.age < timedelta(minutes=1):
            return "less than a minute"
        return duration(self.age)


def ageing(case: ExceptionCase, now: datetime | None = None) -> Ageing:
    end = case.resolved_at or now or timezone.now()
    hours = (end - case.first_raised_at).total_seconds() / 3600
    return Ageing(hours=hours, target=target_hours(case.kind))


@dataclass(frozen=True)
class KnownDifference:
    """The adjustment a case's own facts point to: offered on the screen when a
    manager chooses "Stock adjusted", never posted without them confirming it."""

    units: int
    why: str


def known_difference(case: ExceptionCase) -> KnownDifference | None:
    """What the records are out by, as the case's cause measured it: an oversell's
    shortfall, the units a picker could not find (taken off on-hand), what a
    channel's snapshot counted against the ledger, a count's variance."""
    if case.sku_id is None or case.location_id is None:
        return None
    facts = case.facts or {}
    try:
        if case.kind == ExceptionKind.OVERSELL_CONFLICT:
            units = int(facts["shortfall"])
            why = (
                f"{_units(units)} promised but not on hand: add "
                f"{'it' if units == 1 else 'them'} if found."
            )
        elif case.kind == ExceptionKind.ITEM_NOT_FOUND:
            units = int(facts["quantity"])
            why = (
                f"{_units(units)} not found at picking came off on-hand: put "
                f"{'it' if units == 1 else 'them'} back if found."
            )
        elif case.kind == ExceptionKind.SNAPSHOT_DISAGREEMENT:
            theirs, ledger = int(facts["theirs"]), int(facts["ledger"])
            units = theirs - ledger
            why = (
                f"The channel counted {theirs}, the ledger had {ledger}: "
                "the difference, if the shelf agrees with the channel."
            )
        elif case.kind == ExceptionKind.COUNT_VARIANCE:
            units = int(facts["variance"])
            why = (
                f"Counted {facts['counted']}, the records had "
                f"{facts['system_on_hand']}."
            )
        else:
            return None
    except (KeyError, TypeError, ValueError):
        return None  # an older case without the figure: the manager types it
    return KnownDifference(units=units, why=why) if units else None


def _units(n: int) -> str:
    return f"{n} unit{'' if n == 1 else 's'}"


def exceptions_visible_to(user) -> QuerySet[ExceptionCase]:
    """A manager sees every case; staff the cases at their own stores (a case with no
    location, such as a failing webhook, is the managers')."""
    cases = ExceptionCase.objects.select_related("sku", "location", "assignee")
    if access.sees_every_location(user):
        return cases
    # A count variance names the records' figure: staff count blind, so it is the
    # managers' alone.
    return cases.filter(location__in=access.staff_locations(user=user)).exclude(
        kind=ExceptionKind.COUNT_VARIANCE
    )


def exceptions_filtered(
    cases: QuerySet[ExceptionCase],
    *,
    status: str = "open",
    location: Location | None = None,
    kind: str = "",
    age: str = "",
    assignee: str = "",
    user=None,
    now: datetime | None = None,
) -> QuerySet[ExceptionCase]:
    """The same filters on the screen and the API. ``assignee``: a username,
    ``me`` or ``nobody``. ``age``: ``overdue`` (past its kind's target) or older than
    a day, three days, a week."""
    now = now or timezone.now()
    if status:
        cases = cases.filter(status=status)
    if location is not None:
        cases = cases.filter(location=location)
    if kind:
        cases = cases.filter(kind=kind)
    if age == "overdue":
        late = Q()
        for each in ExceptionKind.values:
            late |= Q(
                kind=each,
                first_raised_at__lt=now - timedelta(hours=target_hours(each)),
            )
        cases = cases.filter(late)
    elif age in AGES:
        cases = cases.filter(first_raised_at__lt=now - timedelta(hours=AGES[age]))
    if assignee == "nobody":
        cases = cases.filter(assignee__isnull=True)
    elif assignee == "me" and user is not None:
        cases = cases.filter(assignee=user)
    elif assignee:
        cases = cases.filter(assignee__username=assignee)
    return cases


def exception_counts(cases: QuerySet[ExceptionCase]) -> dict[str, int]:
    """Open cases per kind, for the queue's summary."""
    return dict(
        cases.filter(status=ExceptionCase.Status.OPEN)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )


def assignable_people(case: ExceptionCase) -> list:
    """Who a case may go to: staff at its location, and the managers."""
    people = get_user_model().objects.filter(is_active=True)
    managers = Q(user_permissions__codename="act_at_every_location") | Q(
        groups__permissions__codename="act_at_every_location"
    )
    if case.location_id is not None:
        managers |= Q(store_memberships__location_id=case.location_id)
    return list(people.filter(managers).distinct().order_by("username"))


# ------------------------------------------------------------------ counts


def counts_at(*, location: Location) -> dict[str, list[CountTask]]:
    """A store's counts: to do now (open or recount), waiting for a manager, and the
    last ones done."""
    tasks = CountTask.objects.filter(location=location).annotate(
        line_count=Count("lines")
    )
    return {
        "to_count": list(
            tasks.filter(status__in=CountTask.COUNTING).order_by("for_date", "pk")
        ),
        "awaiting": list(
            tasks.filter(status=CountTask.Status.AWAITING_APPROVAL).order_by("pk")
        ),
        "done": list(
            tasks.filter(
                status__in=(CountTask.Status.DONE, CountTask.Status.CANCELLED)
            ).order_by("-closed_at")[:10]
        ),
    }


# ------------------------------------------------------- record accuracy


@dataclass(frozen=True)
class Accuracy:
    counted: int
    accurate: int

    @property
    def percent(self) -> float | None:
        """Inventory Record Accuracy: SKU-locations counted within tolerance over
        SKU-locations counted, × 100; nothing counted reads as no figure, not 0 %."""
        if not self.counted:
            return None
        return round(self.accurate * 100 / self.counted, 1)


@dataclass(frozen=True)
class AccuracyReport:
    days: list[date]
    locations: list[Location]
    # (location id or None for every location, day or None for the whole period)
    cells: dict[tuple[int | None, date | None], Accuracy]

    def at(self, location_id: int | None, day: date | None) -> Accuracy:
        return self.cells.get((location_id, day), Accuracy(0, 0))


def record_accuracy(
    *, start: date, end: date, locations: list[Location]
) -> AccuracyReport:
    """IRA per location and day, per location over the period, and overall (summed,
    not averaged: a store that counted ten times weighs ten times), from every count
    line decided in the period. Kept as long as the counts are: the history."""
    zone = timezone.get_current_timezone()
    rows = (
        CountLine.objects.filter(
            task__location__in=locations,
            result__in=[
                CountLine.Result.WITHIN_TOLERANCE,
                CountLine.Result.BEYOND_TOLERANCE,
            ],
            result_at__date__gte=start,
            result_at__date__lte=end,
        )
        .annotate(day=TruncDate("result_at", tzinfo=zone))
        .values_list("task__location_id", "day")
        .annotate(
            counted=Count("id"),
            accurate=Count("id", filter=Q(result=CountLine.Result.WITHIN_TOLERANCE)),
        )
    )
    totals: dict[tuple[int | None, date | None], list[int]] = {}
    for location_id, day, counted, accurate in rows:
        for key in ((location_id, day), (location_id, None), (None, day), (None, None)):
            cell = totals.setdefault(key, [0, 0])
            cell[0] += counted
            cell[1] += accurate
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return AccuracyReport(
        days=days,
        locations=locations,
        cells={key: Accuracy(*cell) for key, cell in totals.items()},
    )
