"""The shape every kind of import file has (``ImportKind``), and the error a row gets.

A job (imports.services) reads the file in pages of rows and asks its kind twice:
first ``check`` over every page (nothing written; the errors are the job's report),
then, when no row is wrong or the job was asked to skip the wrong ones, ``write``
over every page again, each page in its own transaction. ``export`` gives the same
columns back, for the CSV export.

The ``job`` handed to ``check`` and ``write`` is the ``imports.models.ImportJob``
being run, with, for this run only: ``job.actor`` (who sent the file),
``job.channel_code`` (the channel a bound token acts for, else ""),
``job.page_number`` (the page being checked or written, from 1),
``job.pages_total`` (known once the check pass is over: every ``write`` sees it) and
``job.scratch`` (a dict a kind may keep what it learns across the pages of one run
in, e.g. the keys seen so far; empty again when a cut-off job is picked up). A
``write`` that leaves rows out after all (what they named changed since the check)
puts their errors in ``job.scratch["write_errors"]`` (a list of ``RowError``): the
job adds them to its report, and to ``rows_wrong``, with the page.
"""

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings


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
    #: Rows per page at most (each written page is one transaction), never more
    #: than the setting ``IMPORT_PAGE_ROWS``. A kind written row by row through its
    #: services keeps its pages small, so that a page commits in seconds.
    page_rows: ClassVar[int | None] = None

    def page_size(self) -> int:
        return min(
            self.page_rows or settings.IMPORT_PAGE_ROWS, settings.IMPORT_PAGE_ROWS
        )

    @property
    def export_scope(self) -> str:
        """The scope a token needs to export it: by default the one it imports with."""
        return self.scope

    def export_rows(
        self, *, channel_code: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The export as a caller may read it: a token bound to a channel
        (``channel_code``) reads only its channel's rows where a kind has channels
        (snapshots); the other kinds' exports are everyone's."""
        return self.export()

    @abc.abstractmethod
    def check(
        self, rows: list[tuple[int, dict[str, Any]]], *, job: Any
    ) -> tuple[list[Any], list[RowError]]:
        """One page of rows, each (line, values by column: strings from CSV, JSON
        values from JSON Lines): the clean values of the rows without error (whatever
        ``write`` takes) and the errors. Reads only: the stock kinds and snapshots in
        a few queries per page, never one per row. Master data is the exception:
        each row goes through its ``PUT`` endpoint's serializer (one rule with the
        API), whose look-ups cost a query or two a row (docs/imports.md)."""

    @abc.abstractmethod
    def write(self, clean: list[Any], *, job: Any) -> int:
        """Write one page of checked rows set-based, inside the job's transaction for
        the page. A page written twice (a job resumed) writes nothing the second time.
        Answers how many rows it wrote."""

    @abc.abstractmethod
    def export(self) -> Iterator[dict[str, Any]]:
        """Every record of the kind as a row of ``columns + optional``."""
