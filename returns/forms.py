"""The counter's receiving forms as typed: each row read back from a post and kept
on a refusal (nothing typed is lost), the rows a scanner added to the till form,
and the field a refusal sends the cursor to."""

import re

from config.errors import InvalidInput

# Rows on the till-receipt form: a receipt rarely carries more items coming back;
# a scan into the last row adds one (static/js/returns.js), up to TILL_MOST_ROWS.
TILL_ROWS = 4
TILL_MOST_ROWS = 60
# A row's code field: ASCII digits only (str.isdigit() takes "²", which int() refuses).
ROW_FIELD = re.compile(r"sku-([0-9]{1,4})")


def till_row_keys(form) -> list[int]:
    """The rows to show: at least TILL_ROWS, and every row scanned into (a scan
    may have added some) with one empty row after them to scan into next."""
    used = [
        int(found[1])
        for name, value in form.items()
        if (found := ROW_FIELD.fullmatch(name)) and value.strip()
    ]
    last = max((key for key in used if key <= TILL_MOST_ROWS), default=0)
    return list(range(1, min(max(TILL_ROWS, last + 1), TILL_MOST_ROWS) + 1))


def row(form, key, line=None) -> dict:
    """One line of a receiving form as typed (kept on a refusal, so nothing typed
    is lost)."""
    raw = form.get(f"quantity-{key}", "")
    try:
        quantity = int(raw) if raw.strip() else 0
    except ValueError:
        quantity = -1
    return {
        "key": key,
        "line": line,
        "code": form.get(f"sku-{key}", "").strip(),
        "quantity": quantity,
        "raw_quantity": raw,
        "reason": form.get(f"reason-{key}", ""),
        "reason_text": form.get(f"reason_text-{key}", ""),
        "errors": {},
    }


def attach_line_errors(chosen: list[dict], invalid: InvalidInput) -> None:
    for row, problem in zip(
        chosen, invalid.field_errors.get("lines", []), strict=False
    ):
        if isinstance(problem, dict) and problem:
            row["errors"] = problem


def first_row_problem(rows: list[dict], code_field: str = "") -> str:
    """The id of the first field a refusal marked, in the order of the form."""
    for row in rows:
        for field in (code_field, "quantity", "reason", "reason_text"):
            if field and row["errors"].get(field):
                return f"{field}-{row['key']}"
    return ""


def mark_focus(rows: list[dict], focus: str) -> None:
    """Tells the row holding the field ``focus`` (``reason-3``) which of its fields
    takes the cursor."""
    field, _, key = focus.rpartition("-")
    for each in rows:
        each["focus"] = field if str(each["key"]) == key else ""
