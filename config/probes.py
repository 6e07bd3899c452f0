"""Asking what is around the app, for the operators, one part at a time: /readyz's
checks (``config.health``) and /metrics's readings at scrape time
(``config.metrics``) both run their registered parts through ``parts_run``.

Each part stands on its own: one that fails is reported and logged in one line (a
traceback only for what is not the database's or the broker's absence), never
raised. One that reads the database runs in a transaction of its own on the
primary with a short statement timeout, so a slow table holds nothing up and a
failed statement spoils no other part; once the database proves unreachable, the
parts after it that read it are skipped, as each would wait out the connect
timeout."""

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

from .broker import BROKER_UNREACHABLE
from .database import database_unreachable

log = logging.getLogger(__name__)

STATEMENT_TIMEOUT = "2s"
SKIPPED = "skipped: the database cannot be reached"


@dataclass(frozen=True)
class Part:
    name: str
    read: Callable[[], Any]
    reads_database: bool


@dataclass(frozen=True)
class Answer:
    name: str
    value: Any = None
    error: str | None = None  # what went wrong, when it did


def parts_run(parts: Iterable[Part], *, what: str) -> Iterator[Answer]:
    """Each part's answer, in order; ``what`` names the asker in the log."""
    unreachable = False
    for part in parts:
        if part.reads_database and unreachable:
            yield Answer(part.name, error=SKIPPED)
            continue
        try:
            value = _bounded(part.read) if part.reads_database else part.read()
        except (DatabaseError, *BROKER_UNREACHABLE) as error:
            unreachable = unreachable or database_unreachable(error)
            said = _said(error)
            log.warning("%s: %s failed: %s", what, part.name, said)
            yield Answer(part.name, error=said)
            continue
        except Exception as error:  # noqa: BLE001 (a part never fails the rest)
            log.exception("%s: %s failed", what, part.name)
            yield Answer(part.name, error=_said(error))
            continue
        yield Answer(part.name, value)


def _bounded(read: Callable[[], Any]) -> Any:
    connection = connections[DEFAULT_DB_ALIAS]
    with transaction.atomic(using=DEFAULT_DB_ALIAS):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)",
                    [STATEMENT_TIMEOUT],
                )
        return read()


def _said(error: BaseException) -> str:
    first = str(error).strip().splitlines()
    return f"{type(error).__name__}: {first[0]}" if first else type(error).__name__
