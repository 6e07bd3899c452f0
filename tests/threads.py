"""Real concurrency for tests: threads released together, each on its own connection."""

import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from django.db import connection


def all_at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(n)`` in ``count`` threads released together; return what each gave."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(n: int) -> None:
        try:
            start.wait()
            results[n] = work(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@contextmanager
def every_row_slowed(table: str, operation: str):
    """Make each row write on ``table`` take 0.3 s, so two racing batches really do
    interleave row by row, as they would under load."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION test_slow_row() RETURNS trigger AS $$ "
            "BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$ LANGUAGE plpgsql;"
        )
        cursor.execute(
            f"CREATE TRIGGER test_slow_row BEFORE {operation} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION test_slow_row();"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER test_slow_row ON {table}")
