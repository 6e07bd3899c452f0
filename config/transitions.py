"""The one way a record with a state machine changes status, shared by reservations,
orders, pickup tasks and problems, returns, transfers, stock conflicts, exceptions,
counts, reconciliation runs and webhook subscriptions.

A record's model declares ``TRANSITIONS`` (each status: the statuses it may become;
the field is ``status`` unless the model names another in ``STATUS_FIELD``)
and its timeline (a ``config.timeline.TimelineEvent`` subclass, reached through the
reverse relation ``events``). A service:

1. ``lock``\\ s the record (``SELECT … FOR NO KEY UPDATE`` of its own row only: the
   documented lock order of docs/ledger.md takes documents before balances, so a
   record is always locked before any stock it moves);
2. ``check``\\ s the move against the table, or lets ``move`` check it;
3. ``move``\\ s it: the status written and one timeline event recorded with who, when,
   why and a stable ``action`` key, in the caller's transaction;
4. or is refused: a ``TransitionRefused`` (409) of the domain's own class and code,
   naming the current ``status`` and what is ``allowed`` from it, and nothing is
   changed.

Kept free of app imports, like the rest of ``config``.
"""

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from django.db import models
from django.utils import timezone

from .access import Actor
from .errors import Conflict, NotFound

Record = TypeVar("Record", bound=models.Model)


class TransitionRefused(Conflict):
    """A status change the record's table does not allow from where it is. Made by
    ``refusal`` (and so ``check`` and ``move``), it carries ``status`` (where it is)
    and ``allowed`` (where it may go); each domain subclasses it with its own code."""

    code = "transition_refused"


def allowed_from(record: models.Model) -> list[str]:
    """The statuses the record may become from its current one, sorted."""
    return sorted(type(record).TRANSITIONS.get(status_of(record), ()))


def status_field(model: type[models.Model]) -> str:
    """The field a model keeps its status in: ``status``, or its ``STATUS_FIELD``
    (a webhook subscription's ``state``, the API's word for it)."""
    return getattr(model, "STATUS_FIELD", "status")


def status_of(record: models.Model) -> str:
    return getattr(record, status_field(type(record)))


def refusal(
    record: models.Model,
    to_status: str,
    *,
    error: type[TransitionRefused],
    message: str | None = None,
) -> TransitionRefused:
    """The refusal of a move: the current status and what is allowed, in the words of
    the record's ``__str__``-free label (its ``reference`` or id) unless the caller
    has better ones."""
    if message is None:
        label = getattr(record, "reference", None) or record.pk
        noun = type(record)._meta.verbose_name
        message = (
            f"{noun.capitalize()} {label!r} cannot become {to_status}: "
            f"it is {status_of(record)}; nothing was changed."
        )
    return error(message, status=status_of(record), allowed=allowed_from(record))


def may_move(record: models.Model, to_status: str) -> bool:
    return to_status in type(record).TRANSITIONS.get(status_of(record), ())


def check(
    record: models.Model,
    to_status: str,
    *,
    error: type[TransitionRefused],
    message: str | None = None,
) -> None:
    """Refuse unless the table allows ``record`` to become ``to_status``."""
    if not may_move(record, to_status):
        raise refusal(record, to_status, error=error, message=message)


def lock(
    model: type[Record],
    pk: Any,
    *,
    related: Iterable[str] = (),
    missing: str | None = None,
) -> Record:
    """The record, locked for the rest of the transaction (its own row only; rows it
    joins for reading are not locked). A record that does not exist is a 404 that
    names what was asked for."""
    rows = model.objects.select_for_update(no_key=True, of=("self",))
    if related:
        rows = rows.select_related(*related)
    found = rows.filter(pk=pk).first()
    if found is None:
        raise NotFound(missing or f"No {model._meta.verbose_name} {pk}.")
    return found


def record_event(
    record: models.Model,
    *,
    actor: Actor,
    action: str,
    at: datetime | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    detail: dict | None = None,
    **extra: Any,
) -> models.Model:
    """One entry on the record's timeline (its ``events``)."""
    events = record.events
    limit = events.model._meta.get_field("note").max_length
    return events.create(
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor.name,
        source=actor.source,
        note=note[:limit],
        detail=detail or {},
        at=at or timezone.now(),
        **extra,
    )


def move(
    record: models.Model,
    *,
    to: str,
    actor: Actor,
    action: str,
    at: datetime | None = None,
    note: str = "",
    detail: dict | None = None,
    error: type[TransitionRefused],
    refused: str | None = None,
    also: Iterable[str] = (),
    **extra: Any,
) -> models.Model:
    """Check the table, write the new status (and the ``also`` fields the caller set)
    and record the move on the timeline; returns the event. ``refused`` words the
    refusal when the record's own words are better than the default."""
    check(record, to, error=error, message=refused)
    field = status_field(type(record))
    from_status = getattr(record, field)
    setattr(record, field, to)
    fields = [field, *also]
    if _stamps_updates(type(record)):
        fields.append("updated_at")
    record.save(update_fields=fields)
    return record_event(
        record,
        actor=actor,
        action=action,
        at=at,
        from_status=from_status,
        to_status=to,
        note=note,
        detail=detail,
        **extra,
    )


@cache
def _stamps_updates(model: type[models.Model]) -> bool:
    """Whether the model keeps an ``updated_at`` stamp (``auto_now``, written by any
    save that names it); asked once per model, not on every move."""
    return any(field.name == "updated_at" for field in model._meta.concrete_fields)
