"""The shape every kind of import file has (``ImportKind``), and the error a row gets.

A job (imports.services) reads the file in pages of rows and asks its kind twice:
first ``check`` over every page (nothing written; the errors are the job's report),
then, when no row is wrong or the job was asked to skip the wrong ones, ``write``
over every page again, each page in its own transaction. ``export`` gives the same
columns back, for the CSV export.
"""

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row: its line in the file (CSV: the header is line 1;
    JSON Lines: the first line is 1), the column at fault if one is, and why."""

    line: int
    column: str | None
    message: str


class ImportKind(abc.ABC):
    #: The ``kind`` of ``POST /api/v1/imports/`` and of the export's URL.
    name: ClassVar[str]
    #: The screen's words for it ("Opening stock").
    label: ClassVar[str]
    #: The columns a file must have, in the export's order, then those it may have.
    columns: ClassVar[tuple[str, ...]]
    optional: ClassVar[tuple[str, ...]] = ()
    #: The access scope (config.access.Scope value) a token needs to import it.
    scope: ClassVar[str]

    @abc.abstractmethod
    def check(
        self, rows: list[tuple[int, dict[str, Any]]], *, job: Any
    ) -> tuple[list[Any], list[RowError]]:
        """One page of rows, each (line, values by column: strings from CSV, JSON
        values from JSON Lines): the clean values of the rows without error (whatever
        ``write`` takes) and the errors. Reads only, a few queries per page, never one
        per row."""

    @abc.abstractmethod
    def write(self, clean: list[Any], *, job: Any) -> int:
        """Write one page of checked rows set-based, inside the job's transaction for
        the page. A page written twice (a job resumed) writes nothing the second time.
        Answers how many rows it wrote."""

    @abc.abstractmethod
    def export(self) -> Iterator[dict[str, Any]]:
        """Every record of the kind as a row of ``columns + optional``."""
