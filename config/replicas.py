"""Read replicas: which database a read goes to (placeholder, filled below)."""

from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS

_reading: ContextVar[str | None] = ContextVar("onestock_reading_from", default=None)


def reading_alias() -> str:
    """The database this request's reads go to: a replica chosen for it, else the
    primary."""
    return _reading.get() or DEFAULT_DB_ALIAS
