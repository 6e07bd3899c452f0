"""What orders tells the apps that build on it, without knowing them: the pickup app
opens a task at the store for every click-and-collect order, and stops it when the
order is cancelled. Sent inside the
placing transaction, so a receiver's writes land with the order or not at all."""

from django.dispatch import Signal

# Sent with ``order``: an Order just placed and allocated.
order_placed = Signal()

# Sent with ``order``, ``from_status``, ``to_status`` and ``actor`` whenever an
# order's status changes.
order_status_changed = Signal()
