"""Returns on the bench: inspection started, units of each line graded, the return
closed once every unit has a grade and the customer was refunded or exchanged.

A returned unit is sellable again only through a grading here, with the shelf it
was put on; ``inventory.services.returns`` moves the stock. Each function is one
transaction.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config import transitions
from config.access import Actor
from config.errors import InvalidInput, NotFound
from inventory.services.returns import ReturnUnits, return_grade

from ..models import Return, ReturnEvent, ReturnInspection, ReturnLine
from .moves import ReturnTransitionRefused, ensure_may_move, locked, move

Status = Return.Status
Grade = ReturnInspection.Grade


@transaction.atomic
def return_inspection_start(*, return_id: int, actor: Actor) -> Return:
    """Someone has the return on the bench: colleagues see who."""
    found = locked(return_id)
    ensure_may_move(found, Status.INSPECTING)
    move(found, Status.INSPECTING, actor, action="return_inspection_start")
    return found


@transaction.atomic
def return_line_grade(
    *,
    return_id: int,
    line_id: int,
    grade: str,
    quantity: int,
    actor: Actor,
    shelf_location: str = "",
    condition: str = "",
    note: str = "",
) -> ReturnInspection:
    """Units of a line given a grade. A resellable unit becomes available only here,
    with the shelf it was put on; the others leave availability for good (damaged)
    or leave stock (returned to the vendor, destroyed). The grade is signed by the
    member of staff acting (``actor.user``)."""
    found = locked(return_id)
    line = found.lines.select_related("sku").filter(pk=line_id).first()
    if line is None:
        raise NotFound("No such line on this return.")
    if found.status not in Return.AWAITING_GRADE:
        raise ReturnTransitionRefused(
            f"Return {found.reference} is {found.get_status_display().lower()}: "
            "there is nothing to grade.",
            status=found.status,
            allowed=transitions.allowed_from(found),
        )
    shelf_location, condition = shelf_location.strip(), condition.strip()
    _check_grading(line, grade, quantity, shelf_location, condition, note)
    now = timezone.now()
    if found.status == Status.RECEIVED:
        move(found, Status.INSPECTING, actor, action="return_line_grade", at=now)
    inspection = ReturnInspection.objects.create(
        line=line,
        grade=grade,
        quantity=quantity,
        shelf_location=shelf_location if grade == Grade.RESELLABLE else "",
        condition=condition,
        note=note.strip(),
        graded_by=actor.user,
        actor=actor.name,
        graded_at=now,
    )
    return_grade(
        channel=found.channel,
        units=ReturnUnits(
            reference=f"#return/{found.pk}/inspection/{inspection.pk}",
            sku=line.sku,
            location=found.location,
            quantity=quantity,
        ),
        grade=grade,
        reason=f"Return {found.reference}: {Grade(grade).label}",
        actor=actor,
    )
    line.graded_quantity += quantity
    line.save(update_fields=["graded_quantity"])
    transitions.record_event(
        found,
        actor=actor,
        action="return_line_grade",
        at=now,
        note=note.strip(),
        detail={"sku": line.sku.code, "grade": grade, "quantity": quantity}
        | ({"shelf_location": shelf_location} if grade == Grade.RESELLABLE else {}),
        kind=ReturnEvent.Kind.GRADED,
    )
    if not found.lines.filter(graded_quantity__lt=F("quantity")).exists():
        found.graded_at = now
        move(
            found,
            Status.GRADED,
            actor,
            action="return_line_grade",
            at=now,
            also=("graded_at",),
        )
    return inspection


def _check_grading(
    line: ReturnLine,
    grade: str,
    quantity: int,
    shelf_location: str,
    condition: str,
    note: str,
) -> None:
    errors: dict[str, list[str]] = {}
    if grade not in Grade.values:
        errors["grade"] = ["Choose a grade."]
    if not 1 <= quantity <= line.to_grade:
        errors["quantity"] = [
            f"Between 1 and {line.to_grade}: the units of {line.sku.code} not yet "
            "graded."
            if line.to_grade
            else f"Every unit of {line.sku.code} is graded already."
        ]
    if grade == Grade.RESELLABLE and not shelf_location:
        errors["shelf_location"] = [
            "Say where you put it (shelf or bin): it is sellable from there."
        ]
    if len(shelf_location) > 100:
        errors["shelf_location"] = ["At most 100 characters."]
    if len(condition) > 300 or len(note) > 500:
        errors["condition"] = ["Condition at most 300 characters, note at most 500."]
    if errors:
        raise InvalidInput(errors)


@transaction.atomic
def return_close(*, return_id: int, actor: Actor, note: str = "") -> Return:
    """Every unit graded and the customer refunded or exchanged: done."""
    found = locked(return_id)
    ensure_may_move(found, Status.CLOSED)
    found.closed_at = timezone.now()
    move(
        found,
        Status.CLOSED,
        actor,
        action="return_close",
        at=found.closed_at,
        note=note.strip(),
        also=("closed_at",),
    )
    return found
