"""The flash sale's statements go straight through libpq (config.database): whatever a
buyer types arrives intact, errors are Django's, and a session that lost its prepared
statements prepares them again."""

from datetime import UTC, datetime

import pytest
from django.db import DataError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import Sku
from catalog.selectors import records_by_code
from config.database import as_text, is_between_transactions, run_between_transactions
from tests.factories import SkuFactory

pytestmark = pytest.mark.django_db(transaction=True)

AWKWARD = ['say "hi"', "back\\slash", "a,b", "{braces}", " padded ", "NULL", "é€", ""]


def test_every_value_is_sent_in_the_form_the_server_reads():
    assert as_text(None) is None
    assert as_text(True) == "t"
    assert as_text(12) == "12"
    assert as_text(datetime(2026, 11, 24, 9, 30, tzinfo=UTC)) == (
        "2026-11-24T09:30:00+00:00"
    )
    assert as_text([1, None, "x"]) == '{"1",NULL,"x"}'


def test_awkward_text_comes_back_exactly_as_sent():
    rows = run_between_transactions(
        "SELECT value FROM unnest(%s::text[]) WITH ORDINALITY AS a(value, number) "
        "ORDER BY number",
        [[*AWKWARD, None]],
    )
    assert [value for (value,) in rows] == [*AWKWARD, None]
    assert run_between_transactions("SELECT %s::text, %s::int", ["plain", 7]) == [
        ("plain", "7")
    ]


def test_a_session_that_lost_its_prepared_statements_prepares_them_again():
    statement = "SELECT %s::int + 1"
    assert run_between_transactions(statement, [1]) == [("2",)]
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # as psycopg does after any rollback
    assert run_between_transactions(statement, [2]) == [("3",)]


def test_errors_are_djangos_and_leave_the_session_usable():
    with pytest.raises(DataError):
        run_between_transactions("SELECT 1 / %s::int", [0])
    with pytest.raises(ProgrammingError):
        run_between_transactions("SELECT no_such_column FROM catalog_sku", [])
    with pytest.raises(DataError, match="NUL"):
        run_between_transactions("SELECT %s::text", ["nul\x00byte"])
    assert is_between_transactions()
    assert run_between_transactions("SELECT 1", []) == [("1",)]


def test_the_statements_are_logged_like_any_query():
    with CaptureQueriesContext(connection) as queries:
        run_between_transactions("SELECT %s::text AS logged", ["me"])
    assert len(queries.captured_queries) == 1
    assert "SELECT %s::text AS logged" in queries.captured_queries[0]["sql"]
    assert "'me'" in queries.captured_queries[0]["sql"]


def test_a_cart_look_up_between_transactions_finds_what_one_inside_finds():
    known = SkuFactory(code="TEE-BLK-M")
    wanted = {Sku: (("id", "code", "is_active"), {known.code, *AWKWARD})}
    assert is_between_transactions()
    outside = records_by_code(wanted=wanted)
    with transaction.atomic():
        inside = records_by_code(wanted=wanted)
    assert list(outside[Sku]) == list(inside[Sku]) == ["TEE-BLK-M"]
    found = outside[Sku]["TEE-BLK-M"]
    assert (found.pk, found.is_active) == (known.pk, True)
