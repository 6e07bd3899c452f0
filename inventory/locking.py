"""The one lock order of every write path, and ``balances_lock``, through which the
Python write paths lock stock balances. Two lock balances elsewhere, in the same
(sku, location) order: the hold's database function (inventory/sql/place_hold.sql,
one conditional UPDATE per line) and the rebuild's repair
(``inventory.services.rebuild``: the balances that differ in one SELECT … FOR NO KEY
UPDATE, then the missing ones upserted in that order). The documents are locked by
their own services (most through ``config.transitions.lock``), the tills' marker by
the ledger (item 4 below).

Every path that writes stock (the ledger's batch, a checkout's hold on the fast path or
the general one, reservation transitions and the expiry sweep, orders, pickups,
returns, transfers, counts, the rebuild) takes its row locks in this order, and only
in this order, so two of them queue behind each other and never wait for each other
in a circle:

1. **The documents whose state moves**, before any stock: an order first, then what
   hangs on it (its pickup task, the task's open problems and their transfer
   requests, locked as soon as the order is: ``orders.signals.order_locked``; its
   return-to-stock task; its reservation); a return, a count task's lines, a transfer
   request, a reservation (the expiry sweep skips one that is locked). A document
   created in the same transaction is invisible to others and needs no lock.
2. **The stock balances**, all of them at once, in (sku, location) order:
   ``balances_lock`` below, or, in the hold's database function
   (inventory/sql/place_hold.sql), one UPDATE per line in that same order. A request
   that posts several batches (an order's picks, shorts and commits; a transfer's
   release and dispatch) locks every balance it will touch first, at once. The
   rebuild locks the balances it repairs in that order too.
   A promise against future supply (a pre-order, inventory.services
   .supply_promises) then locks the SKU's row (FOR NO KEY UPDATE), for its cap across
   every location; the supply of a SKU at a location and the promises against it are
   serialized by that balance's lock, whoever changes them (a receipt landing them, a
   reschedule or call-off, an order cancelling its pre-ordered units: an order with
   units waiting for supply locks every line's balance and reads their counts again,
   ``orders.services.moves``).
3. **The ledger entries**, inserted in (channel, reference) order, so two batches that
   share references wait on the unique index instead of deadlocking; then the
   conflicts and the exception cases: a case is always locked after the stock it is
   about, whether a batch raises it, a count or a put-away settles it, or a manager
   resolves it with an adjustment (who locks the balance first).
4. **A store's till marker** (``Location.pos_last_event_at``), last, the locations
   in primary-key order: after a till batch's commit, in a transaction of its own
   (last in the caller's when the batch runs inside one), so the batch's balances
   are not held while it is moved (``inventory.services.ledger.movements_record``).

After the commit, in transactions of their own: the till marker, the sources' event
tallies, the availability outbox's feed positions, webhooks.

Foreign keys lock too. Inserting a row that points at a channel, SKU, location,
reservation or order takes a FOR KEY SHARE lock on that row: at commit (Django's
foreign keys are deferred), or, in the hold's function, before its balances (it
checks them early so the look-ups are not made under the hot balance's lock). A key
share conflicts only with FOR UPDATE (and with deleting the row or changing its key).
So **no write path locks a row FOR UPDATE**: every row lock is FOR NO KEY UPDATE
(``select_for_update(no_key=True)``), which serializes writers of the row and never
blocks, nor waits for, a foreign-key check. (Till batches used to lock their store
for update after their balances, and deadlocked with every checkout whose
foreign-key check had taken a key share on that store before waiting for a balance
the batch held.)
tests/inventory/test_lock_order.py runs tills, checkouts, orders, counts and
transitions together on the same SKUs and reads PostgreSQL's deadlock count, and
checks that no code asks for FOR UPDATE.
"""

from collections.abc import Iterable

from django.db.models import Q

from .models import StockBalance

BalanceKey = tuple[int, int]  # (sku_id, location_id)


def balances_lock(*, keys: Iterable[BalanceKey]) -> dict[BalanceKey, StockBalance]:
    """Lock the balance rows of ``keys``, creating those that do not exist yet.

    Must run inside a transaction, after any document lock and before anything else
    (the order above). Rows are selected by the SKUs and the locations involved and
    kept only if asked for; the lock is taken in the order of the unique (sku,
    location) index. A missing row is inserted with ON CONFLICT DO NOTHING, so
    two writers creating the same balance end up locking the one row.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    locked = _select_for_update(wanted)
    missing = wanted - locked.keys()
    if missing:
        StockBalance.objects.bulk_create(
            [StockBalance(sku_id=sku, location_id=loc) for sku, loc in sorted(missing)],
            ignore_conflicts=True,
        )
        locked.update(_select_for_update(missing))
    return locked


def _select_for_update(wanted: set[BalanceKey]) -> dict[BalanceKey, StockBalance]:
    by_location: dict[int, list[int]] = {}
    for sku_id, location_id in wanted:
        by_location.setdefault(location_id, []).append(sku_id)
    # One OR-ed condition per location keeps the selection exact for batches that span
    # several locations, without locking every SKU at every one of them.
    condition = Q()
    for location_id, sku_ids in by_location.items():
        condition |= Q(location_id=location_id, sku_id__in=sku_ids)
    rows = (
        StockBalance.objects.select_for_update(no_key=True)
        .filter(condition)
        .order_by("sku_id", "location_id")
    )
    return {(row.sku_id, row.location_id): row for row in rows}
