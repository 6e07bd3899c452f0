"""What the ledger tells the apps that build on it, without knowing them: the
exception queue (reconciliation) opens a case for every conflict, sent inside the
posting transaction so a receiver's writes land with the entry or not at all; the
channel sync (sync) pushes availability once a change has committed."""

from django.db import transaction
from django.dispatch import Signal

# Sent with ``conflicts``: the StockConflict rows just written, each with its
# ``movement`` (the physical fact that contradicted a promise).
conflicts_recorded = Signal()

# Sent after a transaction that changed stock commits (at once outside one), with no
# arguments: the outbox (AvailabilityChange) has rows to place and push. Never sent
# for a transaction that rolled back.
stock_moved = Signal()


def announce_stock_moved() -> None:
    transaction.on_commit(_send_stock_moved, robust=True)


def _send_stock_moved() -> None:
    stock_moved.send_robust(sender=None)


# Future supply (inventory.services.supply), sent inside the transaction that moved
# it, so a receiver's writes land with it or not at all:
#
# ``supply_landed``, with ``landings`` (``supply.Landing``: units of a promise that
# became the owner's committed or reserved stock, when the supply they waited for was
# received) and ``actor`` (who recorded the receipt).
supply_landed = Signal()

# ``supply_promises_moved``, with ``moves`` (``supply.PromiseMoved``: an owner whose
# promise date changed, or whose units no longer have supply to come from, after a
# reschedule, a call-off or a short receipt) and ``actor``.
supply_promises_moved = Signal()
