"""CSV downloads: the one writer every export goes through.

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that starts with ``=``,
``+``, ``-`` or ``@`` as a formula, and skips a tab, return or line feed before one;
a formula can read other cells and send them out (``=HYPERLINK(...)``) or start a
program. A SKU's, location's or channel's name comes from an integration or a form:
it is data, so a text cell starting with any of those characters (or a NUL) is
written with a single quote in front (OWASP's advice), which the spreadsheet shows
as text; so is text that starts with a quote of its own, so that the spreadsheet
shows it whole and a file import (imports app) takes exactly one quote off again
(``as_written``): an export loaded back changes nothing.

Numbers the code computed (``int``, ``float``, ``Decimal``) are written as they are,
so ``-3`` stays a number a manager can add up: Python writes a number with digits, a
sign and a point only, which is never a formula. A *string* that looks like a number
(``"-3"``) came from someone and is escaped like any other text. Nothing in ``config``
imports an app, so every app's export can use this.
"""

import csv
import math
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

from django.http import HttpResponse

# What a spreadsheet reads as the start of a formula (OWASP, ASVS 1.2.10).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
ESCAPE = "'"
QUOTED_STARTS = (*FORMULA_STARTS, ESCAPE)


def spreadsheet_safe(value) -> object:
    """``value`` as a cell no spreadsheet runs: None is empty, a number as it is,
    anything else as text, quoted when it starts like a formula."""
    if value is None:
        return ""
    if isinstance(value, int):  # bool is an int too: True, False
        return value
    if isinstance(value, float | Decimal) and math.isfinite(value):
        return value  # "-inf" and "NaN" are written as text, below
    text = str(value)
    if text.startswith(QUOTED_STARTS):
        return ESCAPE + text
    return text


def as_written(text: str) -> str:
    """A text cell as it was before ``spreadsheet_safe`` quoted it."""
    if text.startswith(ESCAPE) and text[1:].startswith(QUOTED_STARTS):
        return text[1:]
    return text


def csv_download(*, filename: str, rows: Iterable[Sequence]) -> HttpResponse:
    """An attachment named ``filename`` holding ``rows`` (its heading first), every
    cell through ``spreadsheet_safe``."""
    answer = HttpResponse(content_type="text/csv; charset=utf-8")
    answer["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(answer)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return answer


class _Line:
    """The csv module writes a row into this; ``csv_lines`` yields what it wrote."""

    def write(self, text: str) -> str:
        return text


def csv_lines(rows: Iterable[Sequence]) -> Iterator[str]:
    """``rows`` as CSV text, one line at a time (for a streamed download of a million
    rows), every cell through ``spreadsheet_safe``."""
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow([spreadsheet_safe(cell) for cell in row])
