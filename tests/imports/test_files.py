"""Reading what a retailer's systems really send: a cell pasted far too long, a file
saved in another encoding half-way down, and a big file taken in by the web worker
without copies of it (imports/files.py)."""

import tracemalloc

import pytest

from catalog.models import Product
from imports.files import MAX_CELL_CHARS, file_check
from imports.kinds import KINDS

from .conftest import run, upload

pytestmark = pytest.mark.django_db


def test_a_cell_too_long_is_its_rows_error_and_the_rest_of_the_file_is_read(api):
    pasted = "x" * (MAX_CELL_CHARS + 1)  # a whole catalogue pasted into one cell
    lines = ["code,name", "P1,One", "P2,Two", f"PBIG,{pasted}", "P3,Three", "P4,Four"]

    job = run(upload(api, "products", "\n".join(lines) + "\n", skip_wrong_rows="true"))

    assert (job.status, job.rows_total, job.rows_wrong, job.rows_written) == (
        "done",
        5,
        1,
        4,
    )
    assert [(error["line"], error["column"]) for error in job.errors] == [(4, None)]
    assert "Not readable as CSV" in job.errors[0]["message"]
    assert sorted(Product.objects.values_list("code", flat=True)) == [
        "P1",
        "P2",
        "P3",
        "P4",
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("products.csv", b"code,name\nP1,One\nP2,Caf\xe9\nP3,Three\n"),
        (
            "products.jsonl",
            b'{"code": "P1", "name": "One"}\n{"code": "P2", "name": "Caf\xe9"}\n',
        ),
    ],
)
def test_a_file_not_utf8_further_down_is_refused_by_its_job_saying_where(
    api, name, content
):
    response = upload(api, "products", content, name=name, skip_wrong_rows="true")
    assert response.status_code == 202  # only the first line is read on upload

    job = run(response)

    assert job.status == "refused"
    assert job.message.startswith("Line 2" if name.endswith("jsonl") else "Line 3")
    assert "is not UTF-8 text" in job.message
    assert not Product.objects.exists()


def test_a_big_file_is_taken_in_without_copies_of_it():
    content = b"code,name\n" + b"".join(
        b"P%07d,Product number %07d\n" % (n, n) for n in range(300_000)
    )  # about 10 MB

    tracemalloc.start()
    try:
        rows = file_check(KINDS["products"], content, "csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert rows == 300_000
    assert peak < len(content) // 10
