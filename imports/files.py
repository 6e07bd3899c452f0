"""Reading an import file: which format it is, whether its columns are the kind's,
and its rows in pages of ``(line, {column: value})``.

- **CSV**: UTF-8 (a byte-order mark is allowed), a header row naming the columns, read
  with the csv module; every value a string. Blank lines are passed over. The header
  is line 1.
- **JSON Lines**: one JSON object per line, UTF-8; values as JSON has them. The first
  line is line 1.

Kept lean: a million rows are one CSV parse and one dict per row (the rows a kind is
handed), nothing else per row but a length test (CSV) or a key test (JSON Lines).
"""

import codecs
import csv
import gc
import io
import re
from collections.abc import Iterator
from typing import Any

import orjson
from django.conf import settings

from config.errors import TooLarge

from .kinds.base import ImportKind, RowError

CSV, JSONL = "csv", "jsonl"
MEGABYTE = 1024 * 1024
# The csv module's own limit is 128 KB a cell; a cell beyond this (a description
# pasted whole, a quote never closed) is that row's error, the rest of the file read.
MAX_CELL_CHARS = MEGABYTE
csv.field_size_limit(MAX_CELL_CHARS)
BOM = codecs.BOM_UTF8
# Matched in place over the file's bytes (no copy of them): nothing but blanks
# (after a byte-order mark), and a blank rest of the file from a position.
NOTHING = re.compile(rb"(?:\xef\xbb\xbf)?\s*\Z")
BLANK_REST = re.compile(rb"\s*\Z")
BLANKS = re.compile(rb"\s*")
EXTENSIONS = {".csv": CSV, ".jsonl": JSONL, ".ndjson": JSONL}
CONTENT_TYPES = {
    "text/csv": CSV,
    "application/csv": CSV,
    "application/jsonl": JSONL,
    "application/x-ndjson": JSONL,
    "application/x-jsonlines": JSONL,
    "application/jsonlines": JSONL,
}

Row = tuple[int, dict[str, Any]]


class FileRefused(ValueError):
    """The file as a whole cannot be read as the kind: the message says why."""


def file_format(file_name: str, content_type: str = "") -> str:
    """``csv`` or ``jsonl``, from the name's extension, else the content type."""
    lowered = file_name.lower()
    for extension, found in EXTENSIONS.items():
        if lowered.endswith(extension):
            return found
    base = (content_type or "").split(";")[0].strip().lower()
    if base in CONTENT_TYPES:
        return CONTENT_TYPES[base]
    raise FileRefused(
        "Send a CSV file (.csv) or a JSON Lines file (.jsonl or .ndjson)."
    )


class FileTooLarge(TooLarge):
    """A file over ``IMPORT_MAX_FILE_MB``: the API's 413 and the screen's message."""

    code = "file_too_large"


def size_check(size: int) -> None:
    """Refuses a file of ``size`` bytes over ``IMPORT_MAX_FILE_MB`` (``FileTooLarge``,
    saying how to split it)."""
    limit = settings.IMPORT_MAX_FILE_MB
    if size > limit * MEGABYTE:
        raise FileTooLarge(
            f"The file is {size / MEGABYTE:,.1f} MB: at most {limit} MB per file. "
            "Split it into several files (each with its header row)."
        )


def not_utf8(content: bytes) -> FileRefused:
    """The refusal of a file that is not UTF-8 text, naming the line and byte of its
    first stray byte (found by decoding it whole: only a file already found wrong
    pays for that)."""
    try:
        content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_start = content.rfind(b"\n", 0, error.start) + 1
        line = content.count(b"\n", 0, error.start) + 1
        where = f"Line {line:,} (byte {error.start - line_start + 1})"
    else:  # not reached: called on a decoding error
        where = "A line"
    return FileRefused(
        f'{where} is not UTF-8 text: save the file as UTF-8 ("CSV UTF-8" in a '
        "spreadsheet) and send it again."
    )


def columns_problem(kind: ImportKind, given: list[str]) -> str | None:
    """Why a header (or a JSON object's keys) cannot be the kind's, or None."""
    allowed = set(kind.columns) | set(kind.optional)
    unknown = [name for name in given if name not in allowed]
    missing = [name for name in kind.columns if name not in given]
    duplicated = sorted({name for name in given if given.count(name) > 1})
    problems = []
    if unknown:
        problems.append(
            f"unknown column{'s' * (len(unknown) > 1)} {', '.join(unknown)}"
        )
    if missing:
        problems.append(
            f"missing column{'s' * (len(missing) > 1)} {', '.join(missing)}"
        )
    if duplicated:
        problems.append(f"the column {', '.join(duplicated)} twice")
    if not problems:
        return None
    expected = ", ".join(kind.columns)
    if kind.optional:
        expected += f" (and optionally {', '.join(kind.optional)})"
    return f"{'; '.join(problems).capitalize()}. A {kind.name} file has {expected}."


def file_check(kind: ImportKind, content: bytes, fmt: str) -> int:
    """Refuse a file that is empty or whose columns are not the kind's (CSV: the
    header; JSON Lines: the first object's keys, each later line being checked as a
    row); answers roughly how many rows it has (its lines), for progress until the
    check pass has counted them. Reads only the first line as text: the rest is
    decoded by the job (a file not UTF-8 further on is refused there), so a web
    worker holds no copy of a big file."""
    if NOTHING.match(content):
        raise FileRefused("The file is empty.")
    start = len(BOM) if content.startswith(BOM) else 0
    if fmt == JSONL:
        start = BLANKS.match(content, start).end()
    end = content.find(b"\n", start)
    end = len(content) if end < 0 else end
    try:
        first = content[start:end].decode("utf-8")
    except UnicodeDecodeError:
        raise not_utf8(content) from None
    rows = content.count(b"\n", end + 1) + (not content.endswith(b"\n"))
    if fmt == CSV:
        try:
            header = next(csv.reader([first]))
        except (csv.Error, StopIteration):
            header = []
        problem = columns_problem(kind, [name.strip() for name in header])
        if problem:
            raise FileRefused(problem)
        if BLANK_REST.match(content, end):
            raise FileRefused("The file has a header and no rows.")
        return rows
    try:
        record = orjson.loads(first)
    except orjson.JSONDecodeError:
        raise FileRefused("Line 1 is not JSON: one JSON object per line.") from None
    if not isinstance(record, dict):
        raise FileRefused("Line 1 is not a JSON object: one object per line.")
    problem = columns_problem(kind, list(record))
    if problem:
        raise FileRefused(problem)
    return rows + 1


def pages(
    kind: ImportKind, content: bytes, fmt: str, page_rows: int
) -> Iterator[tuple[list[Row], list[RowError]]]:
    """The file's rows, ``page_rows`` at a time, with the errors of rows that are not
    rows of the kind at all (a CSV row of another length, a line that is not a JSON
    object or names other keys); those rows are not in the page. The pages are the
    same every time the same file is read, so a resumed job finds its place."""
    rows = _csv_rows(kind, content) if fmt == CSV else _jsonl_rows(kind, content)
    page: list[Row] = []
    errors: list[RowError] = []
    # A page is tens of thousands of new dicts, none of them in a cycle: the cyclic
    # collector, run every few hundred of them, would cost as much as the parsing.
    # It is paused while a page is read, never while the caller has it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for row in rows:
            if type(row) is tuple:
                page.append(row)
            else:
                errors.append(row)
            if len(page) + len(errors) < page_rows:
                continue
            if collecting:
                gc.enable()
            yield page, errors
            gc.disable()
            page, errors = [], []
    finally:
        if collecting:
            gc.enable()
    if page or errors:
        yield page, errors


def _csv_rows(kind: ImportKind, content: bytes) -> Iterator[Row | RowError]:
    # Decoded as it is read, a few kilobytes at a time; a line the csv module cannot
    # read (a cell over MAX_CELL_CHARS) is that line's error, and reading goes on.
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    read = reader.__next__
    try:
        header = [name.strip() for name in read()]
        width = len(header)
        while True:
            try:
                cells = read()
            except csv.Error as error:
                yield RowError(reader.line_num, None, f"Not readable as CSV: {error}.")
                continue
            if len(cells) == width:
                yield reader.line_num, dict(zip(header, cells, strict=True))
            elif cells and any(cell.strip() for cell in cells):
                yield RowError(
                    reader.line_num,
                    None,
                    f"{len(cells)} cells where the header names {width} columns.",
                )
    except StopIteration:
        return
    except UnicodeDecodeError:
        raise not_utf8(content) from None


def _jsonl_rows(kind: ImportKind, content: bytes) -> Iterator[Row | RowError]:
    allowed = frozenset(kind.columns) | frozenset(kind.optional)
    required = frozenset(kind.columns)
    # Line by line from the bytes (orjson reads UTF-8 bytes itself): no copy of the
    # whole file as text.
    for number, line in enumerate(io.BytesIO(content), start=1):
        if number == 1 and line.startswith(BOM):
            line = line[len(BOM) :]
        if line.isspace() or not line:
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                raise not_utf8(content) from None
            yield RowError(number, None, "Not JSON: one JSON object per line.")
            continue
        if not isinstance(record, dict):
            yield RowError(number, None, "Not a JSON object: one object per line.")
            continue
        keys = record.keys()
        if not (required <= keys <= allowed):
            unknown = sorted(keys - allowed)
            missing = sorted(required - keys)
            column = (unknown or missing)[0]
            message = (
                f"Unknown field {column}."
                if unknown
                else f"No {column}: each line gives {', '.join(kind.columns)}."
            )
            yield RowError(number, column, message)
            continue
        yield number, record
