"""How a return changes status, on ``config.transitions``: locked, checked against
``Return.TRANSITIONS`` and moved with a ReturnEvent on its timeline, or refused with
a 409 that names where it is and where it may go. A return leaving quality control
settles its overdue case, if one was raised."""

from collections.abc import Iterable
from datetime import datetime

from config import transitions
from config.access import Actor
from reconciliation.services import exception_settle

from ..models import Return, ReturnEvent

Status = Return.Status
SYSTEM = Actor.system("returns")


class ReturnTransitionRefused(transitions.TransitionRefused):
    code = "return_transition_refused"


def locked(return_id: int) -> Return:
    """The return, locked for the transaction; a 404 naming the id if there is none."""
    return transitions.lock(Return, return_id)


def ensure_may_move(found: Return, to_status: str) -> None:
    transitions.check(
        found,
        to_status,
        error=ReturnTransitionRefused,
        message=_refused(found, to_status),
    )


def move(
    found: Return,
    to_status: str,
    actor: Actor,
    *,
    action: str,
    at: datetime | None = None,
    note: str = "",
    detail: dict | None = None,
    also: Iterable[str] = (),
) -> None:
    """The new status (and the ``also`` fields the caller set) written, the move on
    the timeline."""
    transitions.move(
        found,
        to=to_status,
        actor=actor,
        action=action,
        at=at,
        note=note,
        detail=detail,
        error=ReturnTransitionRefused,
        refused=_refused(found, to_status),
        also=also,
        kind=ReturnEvent.Kind.STATUS,
    )
    if to_status not in Return.AWAITING_GRADE:
        exception_settle(
            key=overdue_key(found),
            note=f"The return is {found.get_status_display().lower()}.",
            actor=actor,
        )


def overdue_key(found: Return) -> str:
    """The cause of the case a return waiting too long for inspection raises."""
    return f"return:{found.pk}"


def _refused(found: Return, to_status: str) -> str:
    return (
        f"Return {found.reference} is {found.get_status_display().lower()}; "
        f"it cannot become {Status(to_status).label.split(':')[0].lower()}."
    )
