"""The checkout's statements are prepared by psycopg on Django's connection
(config.database): whatever a buyer types arrives intact, errors are Django's, the
statements are logged and instrumented like any query, and a rollback never leaves a
statement the server has lost."""

import pytest
from django.db import DataError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import Sku
from catalog.selectors import records_by_code
from config.database import is_between_transactions, prepared_rows
from tests.factories import SkuFactory

pytestmark = pytest.mark.django_db(transaction=True)

AWKWARD = ['say "hi"', "back\\slash", "a,b", "{braces}", " padded ", "NULL", "é€", ""]


def test_awkward_text_comes_back_exactly_as_sent():
    rows = prepared_rows(
        "SELECT value FROM unnest(%s::text[]) WITH ORDINALITY AS a(value, number) "
        "ORDER BY number",
        [[*AWKWARD, None]],
    )
    assert [value for (value,) in rows] == [*AWKWARD, None]
    assert prepared_rows("SELECT %s::text, %s::int", ["plain", 7]) == [("plain", 7)]


def test_a_rollback_never_leaves_a_statement_the_server_lost():
    """psycopg deallocates its statements on a rollback and prepares them again."""
    statement = "SELECT %s::int + 1"
    assert prepared_rows(statement, [1]) == [(2,)]
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        prepared_rows(statement, [5])
        1 / 0  # noqa: B018 (the request fails: Django rolls back)
    assert prepared_rows(statement, [2]) == [(3,)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] >= 1


def test_errors_are_djangos_and_leave_the_session_usable():
    with pytest.raises(DataError):
        prepared_rows("SELECT 1 / %s::int", [0])
    with pytest.raises(ProgrammingError):
        prepared_rows("SELECT no_such_column FROM catalog_sku", [])
    with pytest.raises(DataError, match="NUL"):
        prepared_rows("SELECT %s::text", ["nul\x00byte"])
    assert is_between_transactions()
    assert prepared_rows("SELECT 1", []) == [(1,)]


def test_the_statements_are_logged_and_instrumented_like_any_query():
    seen = []

    def instrument(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with (
        CaptureQueriesContext(connection) as queries,
        connection.execute_wrapper(instrument),
    ):
        prepared_rows("SELECT %s::text AS logged", ["me"])
    assert len(queries.captured_queries) == 1
    assert "SELECT 'me'::text AS logged" in queries.captured_queries[0]["sql"]
    assert seen == ["SELECT %s::text AS logged"]


def test_a_cart_look_up_between_transactions_finds_what_one_inside_finds():
    known = SkuFactory(code="TEE-BLK-M")
    wanted = {Sku: (("id", "code", "is_active"), {known.code, *AWKWARD})}
    assert is_between_transactions()
    outside = records_by_code(wanted=wanted)
    with transaction.atomic():
        assert not is_between_transactions()
        inside = records_by_code(wanted=wanted)
    assert list(outside[Sku]) == list(inside[Sku]) == ["TEE-BLK-M"]
    found = outside[Sku]["TEE-BLK-M"]
    assert (found.pk, found.is_active) == (known.pk, True)
