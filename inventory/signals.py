"""What the ledger tells the apps that build on it, without knowing them: the
exception queue (reconciliation) opens a case for every conflict. Sent inside the
posting transaction, so a receiver's writes land with the entry or not at all."""

from django.dispatch import Signal

# Sent with ``conflicts``: the StockConflict rows just written, each with its
# ``movement`` (the physical fact that contradicted a promise).
conflicts_recorded = Signal()
