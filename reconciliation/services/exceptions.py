"""The exception queue's writes: raising a case (the one function every app calls),
settling it when its cause went away, and the people's work on it: assign, comment,
resolve with a resolution code, and, where the records are wrong, an adjustment
posted through ``inventory.services`` with the case as its reason.

Imports only catalog and inventory (and config), so any app may raise into it. The
case's status moves and its timeline go through ``config.transitions``; people's
work takes ``actor: config.access.Actor`` and asks ``actor.user`` whether they may.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Sku
from config import access, metrics, transitions
from config.access import Actor
from config.errors import InvalidInput, NotFound, PermissionRefused
from inventory.models import Location, StockConflict
from inventory.services import adjustment_post, balances_lock, conflict_resolve

from ..models import ExceptionCase, ExceptionEvent, ExceptionKind, Resolution
from ..selectors import exceptions_visible_to

SYSTEM = Actor.system("system")
Status = ExceptionCase.Status
# Adjustments bigger than this are a typo, not a correction.
MAX_ADJUSTMENT = 100_000


class ExceptionTransitionRefused(transitions.TransitionRefused):
    code = "exception_transition_refused"


@dataclass(frozen=True)
class Raised:
    """What a cause says about itself; the same ``key`` twice is one case."""

    kind: str
    key: str
    title: str
    detail: str = ""
    sku: Sku | None = None
    location: Location | None = None
    link: str = ""
    facts: dict | None = None
    stock_conflict: StockConflict | None = None


def exception_raise(*, raised: Raised, actor: Actor = SYSTEM) -> ExceptionCase:
    """Open a case for ``raised.key``, or, if one is open, bring it up to date
    (title, detail, facts) and count the repeat. Runs inside the caller's transaction
    when there is one, so a case lands with its cause or not at all."""
    if raised.kind not in ExceptionKind.values:
        raise ValueError(f"Unknown exception kind {raised.kind!r}")
    now = timezone.now()
    with transaction.atomic():
        case = _open_case(raised.key)
        if case is None:
            try:
                with transaction.atomic():
                    return _create(raised, actor, now)
            except IntegrityError:
                # Another transaction opened it between our look and our insert.
                case = _open_case(raised.key)
                if case is None:
                    raise
        return _raise_again(case, raised, actor, now)


def exception_settle(
    *, key: str, note: str, actor: Actor = SYSTEM
) -> ExceptionCase | None:
    """The cause went away where it arose (the pickup problem was decided, the return
    graded): its open case, if any, is resolved as settled there."""
    with transaction.atomic():
        case = _open_case(key)
        if case is None:
            return None
        return _resolve(
            case, Resolution.SETTLED_AT_SOURCE, note, actor, "exception_settle"
        )


@transaction.atomic
def exception_assign(
    *, case_id: int, assignee_id: int | None, actor: Actor
) -> ExceptionCase:
    """Give the case to someone who works at its location (or a manager), or to
    nobody."""
    case = _locked(case_id, actor)
    _still_open(case, "assigned")
    assignee = None
    if assignee_id is not None:
        assignee = (
            get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
        )
        if assignee is None or not _may_work_on(assignee, case):
            raise InvalidInput(
                {"assignee": ["Choose someone who works at this location."]}
            )
    case.assignee = assignee
    case.save(update_fields=["assignee"])
    # The timeline is read by people: the name they know each other by.
    name = (
        (assignee.get_full_name() or assignee.get_username()) if assignee else "nobody"
    )
    transitions.record_event(
        case,
        actor=actor,
        action="exception_assign",
        note=f"To {name}.",
        kind=ExceptionEvent.Kind.ASSIGNED,
    )
    return case


@transaction.atomic
def exception_comment(*, case_id: int, text: str, actor: Actor) -> ExceptionCase:
    case = _locked(case_id, actor)
    text = text.strip()
    if not text:
        raise InvalidInput({"comment": ["Write a comment."]})
    if len(text) > 1000:
        raise InvalidInput({"comment": ["Keep a comment under 1000 characters."]})
    transitions.record_event(
        case,
        actor=actor,
        action="exception_comment",
        note=text,
        kind=ExceptionEvent.Kind.COMMENT,
    )
    return case


@transaction.atomic
def exception_resolve(
    *,
    case_id: int,
    resolution: str,
    note: str = "",
    adjustment: int | None = None,
    actor: Actor,
) -> ExceptionCase:
    """Close the case with a resolution code. ``stock_adjusted`` posts ``adjustment``
    units (signed) at the case's SKU and location, with the case as the reason; only
    a manager may. A count variance is decided on its count's review, not here."""
    if resolution == Resolution.STOCK_ADJUSTED:
        # The stock before the case, as a ledger batch that raises a case locks them
        # (inventory.locking): an oversell raised at this SKU and location meanwhile
        # queues behind the adjustment instead of deadlocking with it.
        where = (
            ExceptionCase.objects.filter(pk=case_id, sku__isnull=False)
            .exclude(location=None)
            .values_list("sku_id", "location_id")
            .first()
        )
        if where is not None:
            balances_lock(keys=[where])
    case = _locked(case_id, actor)
    _still_open(case, "resolved")
    note = note.strip()
    errors = _resolution_errors(case, resolution, note, adjustment, actor.user)
    if errors:
        raise InvalidInput(errors)
    _resolve(case, resolution, note, actor, "exception_resolve")
    if resolution == Resolution.STOCK_ADJUSTED:
        # Posted after the case is closed: a shortfall the adjustment itself causes
        # opens a new case instead of being resolved unseen with this one.
        case.adjustment = adjustment_post(
            sku=case.sku,
            location=case.location,
            quantity=adjustment,
            reference=f"exception/{case.pk}/adjustment",
            reason=f"Exception #{case.pk} ({case.get_kind_display()}): "
            f"{note or case.title}",
            actor=actor,
        )
        case.save(update_fields=["adjustment"])
    return case


def _resolution_errors(case, resolution, note, adjustment, staff) -> dict:
    errors: dict[str, list[str]] = {}
    if (
        resolution not in Resolution.values
        or resolution == Resolution.SETTLED_AT_SOURCE
    ):
        errors["resolution"] = ["Choose how it was resolved."]
    if case.kind == ExceptionKind.COUNT_VARIANCE:
        errors["resolution"] = [
            "A count variance is approved or rejected on its count's review."
        ]
    if resolution == Resolution.OTHER and not note:
        errors["note"] = ["Say what was done."]
    if len(note) > 500:
        errors["note"] = ["Keep the note under 500 characters."]
    if resolution == Resolution.STOCK_ADJUSTED:
        if not access.sees_every_location(staff):
            raise PermissionRefused("Only a manager may post an adjustment.")
        if case.sku is None or case.location is None:
            errors["resolution"] = ["This case has no SKU and location to adjust."]
        if adjustment is None or adjustment == 0:
            errors["adjustment"] = ["Enter the units to add (or, negative, remove)."]
        elif abs(adjustment) > MAX_ADJUSTMENT:
            errors["adjustment"] = [f"At most {MAX_ADJUSTMENT} units either way."]
    elif adjustment not in (None, 0):
        errors["adjustment"] = ["Only a stock adjustment posts units."]
    return errors


def _open_case(key: str) -> ExceptionCase | None:
    return (
        ExceptionCase.objects.select_for_update(no_key=True)
        .filter(key=key, status=Status.OPEN)
        .first()
    )


def _create(raised: Raised, actor: Actor, now) -> ExceptionCase:
    case = ExceptionCase.objects.create(
        kind=raised.kind,
        key=raised.key,
        title=raised.title[:200],
        detail=raised.detail[:1000],
        facts=raised.facts or {},
        link=raised.link[:200],
        sku=raised.sku,
        location=raised.location,
        stock_conflict=raised.stock_conflict,
        first_raised_at=now,
        last_raised_at=now,
    )
    transitions.record_event(
        case,
        actor=actor,
        action="exception_raise",
        at=now,
        to_status=Status.OPEN,
        note=raised.detail,
        kind=ExceptionEvent.Kind.RAISED,
    )
    metrics.exception_case_opened(kind=raised.kind)
    return case


def _raise_again(
    case: ExceptionCase, raised: Raised, actor: Actor, now
) -> ExceptionCase:
    case.title = raised.title[:200]
    case.detail = raised.detail[:1000] or case.detail
    case.facts = {**case.facts, **(raised.facts or {})}
    case.link = raised.link[:200] or case.link
    case.times_raised += 1
    case.last_raised_at = now
    case.save(
        update_fields=[
            "title",
            "detail",
            "facts",
            "link",
            "times_raised",
            "last_raised_at",
        ]
    )
    transitions.record_event(
        case,
        actor=actor,
        action="exception_raise",
        at=now,
        note=raised.detail,
        kind=ExceptionEvent.Kind.RAISED_AGAIN,
    )
    return case


def _resolve(
    case: ExceptionCase, resolution: str, note: str, actor: Actor, action: str
) -> ExceptionCase:
    if case.kind == ExceptionKind.OVERSELL_CONFLICT:
        # Open conflicts hold the SKU's availability there under review: they lift
        # with the case that gathered them.
        for conflict in StockConflict.objects.filter(
            sku_id=case.sku_id,
            location_id=case.location_id,
            status=StockConflict.Status.OPEN,
        ):
            conflict_resolve(conflict=conflict, actor=actor, note=note[:500])
    now = timezone.now()
    case.resolution = resolution
    case.resolution_note = note[:500]
    case.resolved_by = actor.name
    case.resolved_at = now
    transitions.move(
        case,
        to=Status.RESOLVED,
        actor=actor,
        action=action,
        at=now,
        note=f"{Resolution(resolution).label}. {note}".strip(),
        error=ExceptionTransitionRefused,
        also=["resolution", "resolution_note", "resolved_by", "resolved_at"],
        kind=ExceptionEvent.Kind.RESOLVED,
    )
    return case


def _locked(case_id: int, actor: Actor) -> ExceptionCase:
    """The case, locked, if the member of staff acting may work on it; to anyone
    else it does not exist."""
    missing = "No such exception."
    case = transitions.lock(
        ExceptionCase,
        case_id,
        related=("stock_conflict", "sku", "location"),
        missing=missing,
    )
    if actor.user is None or not _may_work_on(actor.user, case):
        raise NotFound(missing)
    return case


def _may_work_on(user, case: ExceptionCase) -> bool:
    """Whoever sees a case may work on it: one rule, ``exceptions_visible_to``."""
    return exceptions_visible_to(user).filter(pk=case.pk).exists()


def _still_open(case: ExceptionCase, doing: str) -> None:
    """Work on a case goes on while it may still be resolved."""
    transitions.check(
        case,
        Status.RESOLVED,
        error=ExceptionTransitionRefused,
        message=f"Exception #{case.pk} is {case.get_status_display().lower()}: "
        f"it cannot be {doing}.",
    )
