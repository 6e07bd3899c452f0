"""CSV exports: a kind's records in the columns its import takes, streamed row by row
so that a million rows never sit in memory; the file imported back changes nothing."""

import json
from collections.abc import Iterator
from itertools import chain
from typing import TYPE_CHECKING, Any

from config.exports import csv_lines

if TYPE_CHECKING:
    from .kinds.base import ImportKind


def cell_text(value: Any) -> Any:
    """A value as the import reads it back: true/false, JSON for objects and lists,
    a time or a date as ISO text; numbers and text as they are (config/exports.py
    writes them, quoting text a spreadsheet would run)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def kind_csv_lines(
    kind: "ImportKind", *, channel_code: str | None = None
) -> Iterator[str]:
    """The header, then one line per record."""
    names = (*kind.columns, *kind.optional)
    rows = kind.export_rows(channel_code=channel_code)
    yield from csv_lines(
        chain([names], ([cell_text(row.get(name)) for name in names] for row in rows))
    )
