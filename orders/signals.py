"""What orders tells the apps that build on it, without knowing them: the pickup app
opens a task at the store for every click-and-collect order, and keeps it where
its order stands; reconciliation opens a case for units a packer could not find.
Each is sent inside the transaction of the change, so a
receiver's writes land with the order's or not at all."""

from django.dispatch import Signal

# Sent with ``order`` (an Order just placed and allocated) and ``actor`` (who placed
# it, a ``config.access.Actor``).
order_placed = Signal()

# Sent with ``order`` (locked, as it now stands) and ``actor`` (who changed it, a
# ``config.access.Actor``) after every change to an order's lines or status: placed,
# picked, cancelled in whole or in part, ready, collected, closed, a line added.
order_changed = Signal()

# Sent with ``order`` just after it is locked for a change, before any stock moves:
# what other apps keep for it (a pickup task, its problems, their transfers) is locked
# now, documents before stock as the lock order says (inventory.locking).
order_locked = Signal()

# Sent with ``order`` (locked, as it now stands), ``event`` (the OrderEvent of kind
# ``supply_arrived`` just recorded: its ``detail`` names the lines and units) and
# ``actor``, when dated supply a pre-order waited for landed and its units became the
# order's committed stock. The channel sync sends it as ``order.supply_arrived``.
order_supply_arrived = Signal()

# Sent with ``order`` (locked), ``problem`` (the ``PackingProblem`` just recorded:
# units a packer of a shipped order could not find, or found damaged) and ``actor``,
# inside the report's transaction, last: after the shelf is corrected and the units
# re-routed, so the case comes after its stock (the lock order, inventory.locking).
# Reconciliation opens an *item not found* case for units not found (damaged ones
# are a known fact).
order_short_reported = Signal()
