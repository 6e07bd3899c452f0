"""Rebuilding the balances from a long ledger, against the grouped sum it comes down to.

A network of ``--entries`` ledger entries (a million by default, over a tenth as many
balances) is seeded in SQL, then timed, each the median of ``--repeat`` runs:

  (a) raw SQL: the grouped SUM of every bucket's delta over the ledger, GROUP BY
      sku_id, location_id, through psycopg, every row fetched: the database's ceiling;
  (b) inventory.services.balances_rebuild(), as ``manage.py rebuild_balances`` runs it;
  (c) the same with ``repair=False``, as ``rebuild_balances --check`` runs it.

Then balances are tampered with behind the ledger's back (an UPDATE in SQL), and the
rebuild must name exactly those, ``--check`` must exit 1 and change nothing, the
repair must put back what was there, and a second rebuild must find nothing. Exits 1
only when such a correctness check fails.

    python -m bench.rebuild [--entries 1000000] [--tamper 100] [--repeat 3]
"""

import sys
import time
from io import StringIO

import psycopg

from bench import harness, seed

LOCATIONS = 100
ENTRIES_PER_BALANCE = 10
TAMPER_BY = 7  # units added to on-hand of each balance tampered with

GROUPED_SUM = """
    SELECT sku_id, location_id, SUM(on_hand_delta), SUM(committed_delta),
           SUM(picked_delta), SUM(reserved_delta), SUM(damaged_delta),
           SUM(quality_control_delta),
           SUM(in_transit_delta), SUM(incoming_delta)
    FROM inventory_stockmovement
    GROUP BY sku_id, location_id
"""


def main() -> int:
    parser = harness.arguments(__doc__.splitlines()[0])
    parser.set_defaults(database="onestock_bench_rebuild")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--tamper", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    harness.prepare_django(args.database)

    from inventory.services import balances_rebuild

    pairs = max(1, args.entries // ENTRIES_PER_BALANCE)
    locations = min(LOCATIONS, pairs)
    started = time.perf_counter()
    shop = seed.network(skus=max(1, pairs // locations), locations=locations)
    seed.fill_ledger(shop, entries=args.entries)
    seed.analyse()
    seeded = time.perf_counter() - started
    print(
        f"# Rebuild: {harness.machine()}; {shop.entries:,} entries over "
        f"{shop.pairs:,} balances, seeded in {seeded:.1f} s; median of "
        f"{args.repeat} runs\n"
    )

    failures: list[str] = []
    raw, _ = timed(args.repeat, lambda: grouped_sum(args.database))
    rebuild, found = timed(args.repeat, balances_rebuild)
    check, checked = timed(args.repeat, lambda: balances_rebuild(repair=False))
    if any(found + checked):
        failures.append("the rebuild found differences in the seeded ledger")
    rows = [[shop.entries, shop.pairs, rebuild, check, raw, f"{rebuild / raw:.1f}x"]]
    headers = [
        "entries",
        "balances",
        "(b) rebuild s",
        "(c) check-only s",
        "(a) raw grouped sum s",
        "b/a",
    ]
    print(harness.table(headers, rows))

    repair_seconds, tamper_failures = tamper_and_repair(args.tamper, balances_rebuild)
    failures += tamper_failures
    print(
        f"\nTampered with {args.tamper} balances behind the ledger's back: the "
        f"rebuild that repaired them took {repair_seconds:.2f} s"
        + ("." if not tamper_failures else ", and got them wrong.")
    )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def timed(repeat: int, run) -> tuple[float, list]:
    """The median seconds of ``repeat`` runs, and what each run answered."""
    samples, answers = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        answers.append(run())
        samples.append(time.perf_counter() - started)
    return harness.median(samples), answers


def grouped_sum(database: str) -> list[tuple]:
    with psycopg.connect(harness.database_url(database)) as raw:
        return raw.execute(GROUPED_SUM).fetchall()


def tamper(count: int) -> list[tuple[int, int, int, int]]:
    """Add TAMPER_BY units to the on-hand of ``count`` balances spread over the table,
    behind the ledger's back; answers (id, SKU id, location id, on-hand before)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE inventory_stockbalance AS balance
            SET on_hand = on_hand + %s
            FROM (
                SELECT id FROM inventory_stockbalance
                ORDER BY md5(id::text) LIMIT %s
            ) AS victim
            WHERE balance.id = victim.id
            RETURNING balance.id, balance.sku_id, balance.location_id,
                      balance.on_hand - %s
            """,
            [TAMPER_BY, count, TAMPER_BY],
        )
        return cursor.fetchall()


def tamper_and_repair(count: int, balances_rebuild) -> tuple[float, list[str]]:
    """Add units to ``count`` balances, spread over the table, and check the rebuild
    finds exactly those, ``--check`` leaves them, and the repair restores them."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    failures = []
    honest = {pk: on_hand for pk, _, _, on_hand in tamper(count)}
    expected = {
        (sku, location, "on_hand", on_hand + TAMPER_BY, on_hand)
        for sku, location, on_hand in _codes(honest)
    }

    out = StringIO()
    try:
        call_command("rebuild_balances", "--check", stdout=out)
        failures.append("rebuild_balances --check exited 0 after tampering")
    except CommandError as error:
        if error.returncode != 1:
            failures.append(f"rebuild_balances --check exited {error.returncode}")
    if len(out.getvalue().splitlines()) != count:
        failures.append(
            f"--check printed {len(out.getvalue().splitlines())} lines, not {count}"
        )
    if _on_hand(honest) != {pk: on_hand + TAMPER_BY for pk, on_hand in honest.items()}:
        failures.append("--check changed the balances")

    started = time.perf_counter()
    found = balances_rebuild()
    seconds = time.perf_counter() - started
    named = {
        (d.sku_code, d.location_code, d.field, d.stored, d.from_ledger) for d in found
    }
    if len(found) != count or named != expected:
        failures.append(
            f"the rebuild named {len(found)} differences; "
            f"{len(named - expected)} not tampered with, "
            f"{len(expected - named)} tampered with but missed"
        )
    if _on_hand(honest) != honest:
        failures.append("the repair did not restore the tampered balances")
    again = balances_rebuild()
    if again:
        failures.append(f"a second rebuild found {len(again)} more differences")
    return seconds, failures


def _codes(balances: dict[int, int]) -> list[tuple[str, str, int]]:
    from inventory.models import StockBalance

    rows = StockBalance.objects.filter(pk__in=balances).values_list(
        "pk", "sku__code", "location__code"
    )
    return [(sku, location, balances[pk]) for pk, sku, location in rows]


def _on_hand(balances: dict[int, int]) -> dict[int, int]:
    from inventory.models import StockBalance

    return dict(
        StockBalance.objects.filter(pk__in=balances).values_list("pk", "on_hand")
    )


if __name__ == "__main__":
    sys.exit(main())
