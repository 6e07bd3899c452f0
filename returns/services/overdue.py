"""The overdue job: a return waiting for inspection longer than
``RETURNS_INSPECTION_TARGET_HOURS`` is flagged for the manager, once, as a
``return_overdue`` case; the case settles when the return leaves quality control
(``moves.move``)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config import transitions
from config.words import units
from reconciliation.models import ExceptionKind
from reconciliation.services import Raised, exception_raise

from ..models import Return, ReturnEvent
from .moves import SYSTEM, locked, overdue_key


def returns_flag_overdue(*, now: datetime | None = None) -> int:
    """Returns waiting for inspection longer than ``RETURNS_INSPECTION_TARGET_HOURS``
    are flagged for the manager, once each; returns how many were flagged now."""
    now = now or timezone.now()
    hours = settings.RETURNS_INSPECTION_TARGET_HOURS
    waited_since = now - timedelta(hours=hours)
    flagged = 0
    waiting = Return.objects.filter(
        status__in=Return.AWAITING_GRADE,
        received_at__lte=waited_since,
        overdue_since__isnull=True,
    ).values_list("pk", flat=True)
    for return_id in list(waiting):
        with transaction.atomic():
            found = locked(return_id)
            if found.status not in Return.AWAITING_GRADE or found.overdue_since:
                continue
            found.overdue_since = now
            found.save(update_fields=["overdue_since", "updated_at"])
            transitions.record_event(
                found,
                actor=SYSTEM,
                action="return_flag_overdue",
                at=now,
                note=f"Waiting for inspection longer than {hours} h.",
                kind=ReturnEvent.Kind.OVERDUE,
            )
            _raise_overdue(found, hours)
            flagged += 1
    return flagged


def _raise_overdue(found: Return, hours: int) -> None:
    waiting = sum(line.to_grade for line in found.lines.all())
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.RETURN_OVERDUE,
            key=overdue_key(found),
            title=f"Return {found.reference} at {found.location.code}: "
            f"{units(waiting)} waiting for inspection over {hours} h",
            detail="Received but not graded: these units are on hand and cannot be "
            "sold until someone inspects them. Settles when the return is graded.",
            location=found.location,
            link=f"/store/returns/{found.pk}/",
            facts={"reference": found.reference, "units": waiting},
        ),
        actor=SYSTEM,
    )
