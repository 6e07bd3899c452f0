"""The database's own code (functions, procedures, triggers) as source: each one's
current text lives in one file here, and migrations apply the files by name.

Layout: ``<name>.sql`` is PostgreSQL; ``sqlite/<name>.sql`` is the same code for
SQLite (the demo), where it has a version there. A vendor without a file for a name
is skipped. ``availability.sql`` is generated from ``inventory.availability``: never
edit it by hand.

A migration applies files with the one operation here, ``apply_sql_files``::

    from inventory.sql import apply_sql_files

    operations = [apply_sql_files(balance_outbox="3f2a9c1e0b7d")]

It reads the files when the migration runs, not when it was written: a fresh database
built by every migration ends with each file's current text. The digest (optional,
``sql_digest``) says which text the migration was written for; the newest migration
applying a file must name its current digest, or the tests fail.

To change database code: edit its file (for availability: the Python rule, then
regenerate the file), and add a migration whose one operation applies it, as above,
with the digest the failing test prints. Never copy a function's SQL into a
migration, nor patch an earlier migration's text. Tables, columns and indexes are
schema: they stay in migrations.

What a file must be:

- re-runnable, since every migration that names it runs it again:
  ``CREATE OR REPLACE FUNCTION``/``PROCEDURE``, and for triggers
  ``CREATE OR REPLACE TRIGGER`` on PostgreSQL, ``DROP TRIGGER IF EXISTS`` then
  ``CREATE TRIGGER`` on SQLite;
- runnable at the first migration that applies it, with the schema of that moment:
  outside function bodies (a trigger's table, a function's argument types) it names
  only what existed then. Function bodies are not checked when a file is applied
  (``check_function_bodies`` is off, as in a pg_dump restore), so a body may use a
  column added later; tests/inventory/test_database_code.py checks every body
  against the full schema, and that the database's bodies equal the files';
- headed by a comment saying what it owns and which migrations apply it.

A file applied whole: on PostgreSQL in one ``execute`` (several statements, with
``$$`` bodies); on SQLite one statement at a time, split where SQLite itself says a
statement is complete.
"""

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent
VENDOR_DIRS = {"postgresql": SQL_DIR, "sqlite": SQL_DIR / "sqlite"}


def sql_path(name: str, vendor: str) -> Path | None:
    """The file holding ``name``'s code for a database vendor, or None if it has none."""
    directory = VENDOR_DIRS.get(vendor)
    path = directory / f"{name}.sql" if directory else None
    return path if path and path.is_file() else None


def sql_names() -> list[str]:
    """Every name with a file, for any vendor."""
    return sorted(
        {
            path.stem
            for directory in VENDOR_DIRS.values()
            for path in directory.glob("*.sql")
        }
    )


def sqlite_statements(text: str) -> list[str]:
    """A SQLite file's statements, one by one (sqlite3 runs one per ``execute``): each
    ends at the first semicolon at which SQLite finds the statement complete, so a
    trigger's ``BEGIN ... END;`` stays whole. Comments before a statement stay with it."""
    statements, start = [], 0
    for end, character in enumerate(text):
        if character == ";" and sqlite3.complete_statement(text[start : end + 1]):
            statements.append(text[start : end + 1].strip())
            start = end + 1
    rest = [line.strip() for line in text[start:].splitlines()]
    if any(line and not line.startswith("--") for line in rest):
        raise ValueError(
            f"an unfinished statement at the end: {text[start:].strip()!r}"
        )
    return statements


def execute_sql_file(schema_editor, name: str) -> bool:
    """Run ``name``'s file for the schema editor's database; False if its vendor has
    none. PostgreSQL checks no function body meanwhile (see the module docstring)."""
    connection = schema_editor.connection
    path = sql_path(name, connection.vendor)
    if path is None:
        return False
    text = path.read_text(encoding="utf-8")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('check_function_bodies')")
            (checking,) = cursor.fetchone()
        # No parameters: psycopg sends the whole file, several statements, as is.
        schema_editor.execute(
            "SET LOCAL check_function_bodies = off;\n" + text, params=None
        )
        schema_editor.execute(
            "SELECT set_config('check_function_bodies', %s, true)", [checking]
        )
    else:
        for statement in sqlite_statements(text):
            schema_editor.execute(statement, params=None)
    return True


def sql_digest(name: str) -> str:
    """A short digest of ``name``'s text, every vendor's file together."""
    digest = hashlib.sha256()
    for vendor in VENDOR_DIRS:
        path = sql_path(name, vendor)
        digest.update(path.read_bytes() if path else b"")
    return digest.hexdigest()[:12]


def apply_sql_files(
    *names: str, reverse_code: Callable | None = None, **written_for: str
) -> migrations.RunPython:
    """The migration operation that applies the files of ``names``, then those named
    as keywords, in that order, each as it is when the migration runs.

    A keyword gives a file with the digest of the text the migration was written for
    (``balance_outbox="3f2a9c1e0b7d"``, see ``sql_digest``). It changes nothing when
    the migration runs, but the newest migration that applies a file must name its
    current digest (tests/inventory/test_database_code.py prints the line to add): a
    fresh database always gets a file's current text, so only this shows that an
    existing database would never receive a change.

    Reversed, it does nothing (the previous text is history), unless
    ``reverse_code`` (a RunPython function) says otherwise."""
    every = (*names, *written_for)
    known = set(sql_names())
    unknown = [name for name in every if name not in known]
    if not every or unknown:
        raise ValueError(f"no file in {SQL_DIR} for {unknown or 'nothing'}")

    def apply(apps, schema_editor):
        for name in every:
            execute_sql_file(schema_editor, name)

    apply.__doc__ = f"Apply inventory/sql: {', '.join(every)}."
    operation = migrations.RunPython(apply, reverse_code or migrations.RunPython.noop)
    # Read by the tests: which files it applies, and which text it was written for.
    operation.sql_files = every
    operation.sql_digests = dict(written_for)
    return operation
