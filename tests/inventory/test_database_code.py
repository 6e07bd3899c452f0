"""The database's code is source (inventory/sql): every file parses and runs again,
every file is applied by a migration, the database runs exactly the files' text, and
availability in SQL is availability in Python on every combination of buckets."""

import itertools
import json
import re
import sqlite3
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from inventory.availability import (
    AVAILABILITY_SIGN,
    availability_sql_file,
    available_from,
    available_sql,
    promisable,
    safety_buffer_for,
)
from inventory.models import AvailabilityChange, StockBalance
from inventory.movements import BUCKETS
from inventory.sql import (
    SQL_DIR,
    VENDOR_DIRS,
    apply_sql_files,
    sql_digest,
    sql_names,
    sqlite_statements,
)

POSTGRESQL_FILES = sorted(VENDOR_DIRS["postgresql"].glob("*.sql"))
SQLITE_FILES = sorted(VENDOR_DIRS["sqlite"].glob("*.sql"))
REGENERATE = (
    ".venv/bin/python -m inventory.availability > inventory/sql/availability.sql"
)

# Functions that migrations 0008-0011 still create from their own text. A name leaves
# this set when its function moves into a file; no other function may lack one.
NOT_YET_IN_FILES: set[str] = set()
OWNED = r"^(onestock|inventory)_"

# A routine's name and its dollar-quoted body (pg_proc.prosrc is what lies between
# the quotes). At the start of a line only, so a commented-out one does not count.
ROUTINE = re.compile(
    r"^CREATE\s+OR\s+REPLACE\s+(?:FUNCTION|PROCEDURE)\s+(\w+)\s*\(.*?\$(\w*)\$(.*?)\$\2\$",
    re.S | re.I | re.M,
)
TRIGGER = re.compile(r"^CREATE\s+(?:OR\s+REPLACE\s+)?TRIGGER\s+(\w+)", re.I | re.M)


def file_routines() -> dict[str, list[str]]:
    routines: dict[str, list[str]] = {}
    for path in POSTGRESQL_FILES:
        for name, _tag, body in ROUTINE.findall(path.read_text(encoding="utf-8")):
            routines.setdefault(name, []).append(body)
    return routines


# -------------------------------------------------------------------- the files parse


@pytest.mark.parametrize("path", POSTGRESQL_FILES, ids=lambda path: path.name)
def test_a_postgresql_file_parses_checks_its_bodies_and_runs_again(db, path):
    """Run whole, twice, with every function body checked, then rolled back: a typo,
    or a ``CREATE`` that is not ``OR REPLACE``, fails here and not in a deploy."""
    text = path.read_text(encoding="utf-8")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL check_function_bodies = on")
        cursor.execute(text)
        cursor.execute(text)
        transaction.set_rollback(True)


def sqlite_with_the_tables() -> sqlite3.Connection:
    """An in-memory SQLite holding the tables the demo's triggers use, with the
    models' columns (types do not matter to SQLite; quantities start at 0)."""
    database = sqlite3.connect(":memory:")
    zero = {*BUCKETS, "sequence"}
    for model in (StockBalance, AvailabilityChange):
        columns = ", ".join(
            f"{field.column} INTEGER PRIMARY KEY"
            if field.primary_key
            else f"{field.column} DEFAULT 0"
            if field.column in zero
            else field.column
            for field in model._meta.concrete_fields
        )
        database.execute(f"CREATE TABLE {model._meta.db_table} ({columns})")
    database.execute(
        "CREATE TABLE inventory_stockmovement (id INTEGER PRIMARY KEY, quantity)"
    )
    return database


def test_the_sqlite_files_run_twice_and_their_triggers_work():
    """The demo's triggers, from their files: the ledger refuses edits, and a change
    of a balance's quantities counts up its sequence and reaches the outbox."""
    database = sqlite_with_the_tables()
    assert {path.stem for path in SQLITE_FILES} == {
        "ledger_append_only",
        "balance_outbox",
    }
    for path in SQLITE_FILES * 2:
        for statement in sqlite_statements(path.read_text(encoding="utf-8")):
            database.execute(statement)

    database.execute("INSERT INTO inventory_stockmovement (quantity) VALUES (3)")
    with pytest.raises(sqlite3.DatabaseError, match="append-only: UPDATE refused"):
        database.execute("UPDATE inventory_stockmovement SET quantity = 4")
    with pytest.raises(sqlite3.DatabaseError, match="append-only: DELETE refused"):
        database.execute("DELETE FROM inventory_stockmovement")

    database.execute(
        "INSERT INTO inventory_stockbalance (sku_id, location_id, on_hand) "
        "VALUES (1, 2, 5)"
    )
    database.execute("UPDATE inventory_stockbalance SET reserved = 2")
    database.execute("UPDATE inventory_stockbalance SET updated_at = 'now'")
    changes = database.execute(
        "SELECT sku_id, location_id, sequence, on_hand, reserved "
        "FROM inventory_availabilitychange ORDER BY id"
    ).fetchall()
    assert changes == [(1, 2, 1, 5, 0), (1, 2, 2, 5, 2)]
    assert database.execute(
        "SELECT sequence FROM inventory_stockbalance"
    ).fetchall() == [(2,)]
    # A channel's terms changed: the sequence alone jumps, stamped, and is announced.
    database.execute(
        "UPDATE inventory_stockbalance SET sequence = sequence + 1, updated_at = 'later'"
    )
    assert database.execute(
        "SELECT sequence, reserved FROM inventory_availabilitychange ORDER BY id"
    ).fetchall()[2:] == [(3, 2)]


def test_a_sqlite_file_splits_where_sqlite_says_a_statement_ends():
    text = """
    -- a trigger's body is one statement with the trigger
    DROP TRIGGER IF EXISTS t; CREATE TRIGGER t AFTER INSERT ON x
    BEGIN SELECT ';'; SELECT 2; END;
    -- nothing after this
    """
    assert [
        statement.splitlines()[-1].strip() for statement in sqlite_statements(text)
    ] == [
        "DROP TRIGGER IF EXISTS t;",
        "BEGIN SELECT ';'; SELECT 2; END;",
    ]
    with pytest.raises(ValueError, match="unfinished"):
        sqlite_statements("SELECT 1; SELECT 2")


# --------------------------------------------------- the migrations apply every file


def test_every_file_is_applied_by_a_migration_written_for_its_current_text():
    """A fresh database gets every file's current text whatever the migrations say,
    so the newest migration applying a file must name the digest of that text: a
    changed file with no migration to bring it to existing databases fails here."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    in_order = []
    for leaf in sorted(loader.graph.leaf_nodes()):
        in_order += [
            key for key in loader.graph.forwards_plan(leaf) if key not in in_order
        ]
    newest = {}
    for key in in_order:
        for operation in loader.graph.nodes[key].operations:
            for name in getattr(operation, "sql_files", ()):
                newest[name] = (key, operation.sql_digests.get(name))
    assert set(newest) == set(sql_names()), "a file that no migration applies"
    for name, ((app, migration), digest) in newest.items():
        assert digest == sql_digest(name), (
            f"inventory/sql: {name} changed after {app}.{migration} applied it; "
            f"add a migration: operations = "
            f'[apply_sql_files({name}="{sql_digest(name)}")]'
        )


def test_a_migration_cannot_name_a_file_that_does_not_exist():
    with pytest.raises(ValueError, match="no_such_code"):
        apply_sql_files("no_such_code")


def test_the_database_runs_exactly_the_files_text(db):
    """A function created from text that is in no file (or a later migration's own
    text replacing a file's function) fails here, and so does a trigger in no file."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT proname, prosrc FROM pg_proc
            WHERE pronamespace = current_schema()::regnamespace AND proname ~ %s
            """,
            [OWNED],
        )
        live: dict[str, list[str]] = {}
        for name, body in cursor.fetchall():
            live.setdefault(name, []).append(body)
        cursor.execute(
            """
            SELECT DISTINCT trigger.tgname FROM pg_trigger AS trigger
            JOIN pg_class AS class ON class.oid = trigger.tgrelid
            WHERE NOT trigger.tgisinternal AND trigger.tgname ~ %s
              AND class.relnamespace = current_schema()::regnamespace
            """,
            [OWNED],
        )
        live_triggers = {name for (name,) in cursor.fetchall()}

    in_files = file_routines()
    assert {"onestock_available", "onestock_safety_buffer"} <= in_files.keys()
    for name, bodies in in_files.items():
        assert sorted(live.get(name, [])) == sorted(bodies), (
            f"{name}: the database's text is not its file's; add a migration "
            f'applying the file (operations = [apply_sql_files("...")])'
        )
    assert set(live) - in_files.keys() <= NOT_YET_IN_FILES
    file_triggers = {
        name
        for path in POSTGRESQL_FILES
        for name in TRIGGER.findall(path.read_text(encoding="utf-8"))
    }
    assert live_triggers == file_triggers


def test_the_availability_file_is_what_the_python_rule_generates():
    assert (SQL_DIR / "availability.sql").read_text(encoding="utf-8") == (
        availability_sql_file()
    ), f"inventory/availability.py changed: run {REGENERATE}, and add a migration"


# --------------------------------------------------- SQL and Python agree on the rule


def test_availability_in_sql_is_availability_in_python_for_every_bucket_combination(db):
    """Each of the eight buckets at 0, 3 or -2 (a bucket driven below zero), all
    6,561 combinations in one query: ``onestock_available`` and the expression the
    dashboard uses give what ``available_from`` gives."""
    assert set(AVAILABILITY_SIGN) <= set(BUCKETS)
    combinations = [
        dict(zip(BUCKETS, values, strict=True))
        for values in itertools.product((0, 3, -2), repeat=len(BUCKETS))
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT onestock_available(b), {available_sql("b")}
            FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS given(q, n)
            CROSS JOIN LATERAL
                jsonb_populate_record(NULL::inventory_stockbalance, given.q) AS b
            ORDER BY given.n
            """,
            [json.dumps(combinations)],
        )
        in_sql = cursor.fetchall()

    expected = [available_from(SimpleNamespace(**c)) for c in combinations]
    assert len(in_sql) == 3 ** len(BUCKETS)
    assert [function for function, _ in in_sql] == expected
    assert [expression for _, expression in in_sql] == expected


def test_the_safety_buffer_in_sql_is_the_one_in_python(db):
    """The SKU's own buffer (unset, 0, 2) against the channel's (no channel, 0, 5) and
    its velocity buffer at the location (none, 1)."""
    cases = list(itertools.product((None, 0, 2), (None, 0, 5), (None, 1)))
    rows = ", ".join(["(%s::integer, %s::integer, %s::integer)"] * len(cases))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT onestock_safety_buffer(sku, channel, velocity) "
            f"FROM (VALUES {rows}) AS given(sku, channel, velocity)",
            [value for case in cases for value in case],
        )
        in_sql = [buffer for (buffer,) in cursor.fetchall()]

    expected = [
        safety_buffer_for(
            sku=SimpleNamespace(safety_buffer=sku),
            channel=None if channel is None else SimpleNamespace(safety_buffer=channel),
            velocity_buffer=velocity,
        )
        for sku, channel, velocity in cases
    ]
    # No channel holds nothing back; the SKU's own buffer, even 0, wins over 5 and
    # over the velocity buffer, which wins over the channel's.
    assert in_sql == expected
    assert expected[:6] == [0, 0, 0, 1, 5, 1]
    assert expected[-2:] == [2, 2]


def test_what_a_channel_may_promise_in_sql_is_the_rule_in_python(db):
    """Available (negative, none, short of the protections, plenty) against the
    units kept back, the channel's own protection and the others'."""
    cases = list(itertools.product((-2, 0, 3, 10), (0, 1), (0, 2, 5), (0, 4, 12)))
    rows = ", ".join(["(%s::bigint, %s::bigint, %s::bigint, %s::bigint)"] * len(cases))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT onestock_promisable(available, keep, own, others) "
            f"FROM (VALUES {rows}) AS given(available, keep, own, others)",
            [value for case in cases for value in case],
        )
        in_sql = [units for (units,) in cursor.fetchall()]
    expected = [
        promisable(available=available, keep=keep, own=own, others=others)
        for available, keep, own, others in cases
    ]
    assert in_sql == expected
    # Ten there, four protected for another channel: six; with two of its own
    # protected as well (six for the others), still the six beyond theirs.
    assert promisable(available=10, keep=0, own=0, others=4) == 6
    assert promisable(available=10, keep=1, own=2, others=4) == 5
    # Three there, five protected for it and twelve for others: it may take its own.
    assert promisable(available=3, keep=0, own=5, others=12) == 3


def test_the_planner_inlines_the_availability_functions(db):
    """Calling them costs what the written-out formula costs: no function call is
    left in the plan."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            EXPLAIN (VERBOSE, COSTS OFF)
            SELECT onestock_available(b), onestock_safety_buffer(NULL, 3, NULL),
                   onestock_promisable(onestock_available(b), 1, 0, 2)
            FROM inventory_stockbalance AS b
            """
        )
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "onestock_" not in plan, plan
    assert "on_hand - committed" in plan, plan
