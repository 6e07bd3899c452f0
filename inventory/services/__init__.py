"""Writes to inventory. This package is the only code that changes stock: every other
app, view, task and command asks it. Every service that records who acted takes
them as the keyword ``actor`` (``config.access.Actor``); the ledger records
``actor.name``.

- ``locations``: the register of stores, warehouses and distribution centres.
- ``ledger``: posting a batch of movements to the append-only ledger and its
  balances (``movements_record``), with ``ledger_inputs`` (the events a batch is
  given and what becomes of each), ``ledger_rules`` (how one event moves the locked
  balances: the count rule, late deltas, promises, conflicts) and ``ledger_writes``
  (the batch's set-based writes, and the tallies of events that left no entry).
- ``conflicts``: contradictions between physical facts and promises.
- ``corrections``: counts and adjustments stated by staff in the back office.
- ``bulk_stock``: opening stock from a file, a page at a time, set-based; a file's
  counts through the ledger's own batch (``movements_record``), 1,000 rows a call
  (the imports app's stock kinds; imported from there).
- ``rebuild``: recomputing balances from the ledger.
- ``restore``: after a point-in-time restore, the balances' sequences jump past any
  sent before, and every balance is announced again.
- ``health``: how each source that sends events keeps in touch.
- ``reservations``: checkout holds, all or nothing, and their commit, fulfilment,
  cancellation, release and expiry; ``checkout``: the API checkout's first try,
  a hold placed from its cart's codes in one server call through ``promises``
  (the one fast path, inventory/sql/place_hold.sql).
- ``commitments``: an order's units through the ledger (committed, picked,
  fulfilled, released), for the orders app.
- ``returns``: a returned unit's way through the ledger, for the returns app.
- ``transfers``: units asked for from another location, and their dispatch and
  receipt.
- ``demand``: demand turned away for lack of stock, recorded after the refusal.
- ``terms``: a channel's terms changed (protections, velocity buffers, networks):
  the balances concerned are announced again, without touching their quantities.
- ``buffers``: a velocity channel's buffers from its rate of sale, previewed and
  recomputed (``buffers_preview``, ``buffers_recompute``; imported from there).
- ``allocations``: units protected for a channel at a SKU and location, set and
  lifted (each change announced again through ``terms``).
- ``networks``: a channel's network redrawn (``network_set``), and the channel
  written with it in one transaction (``channel_network_upsert``; imported from
  there); the stock at the locations that entered or left is announced again.

``balances_lock`` (inventory.locking) is here for a request that posts several
batches: it locks every balance it will touch at once, in the one lock order, right
after its document, so its batches never take them one by one.
"""

from ..locking import balances_lock
from .allocations import allocation_remove, allocation_set
from .checkout import reservation_place_by_codes
from .conflicts import conflict_resolve
from .corrections import (
    CorrectionRefused,
    StaffCount,
    adjustment_post,
    counts_post,
    staff_channel,
)
from .demand import demand_refused_record
from .health import source_health_measure
from .ledger import (
    MovementInput,
    MovementOutcome,
    Outcome,
    movements_record,
)
from .locations import location_upsert
from .rebuild import BalanceDifference, balances_rebuild
from .reservations import (
    ReservationLineInput,
    reservation_place,
    reservation_transition,
    reservations_expire,
)
from .restore import balance_sequences_skip
from .terms import terms_announce

__all__ = [
    "allocation_remove",
    "allocation_set",
    "balances_lock",
    "source_health_measure",
    "CorrectionRefused",
    "adjustment_post",
    "counts_post",
    "StaffCount",
    "staff_channel",
    "BalanceDifference",
    "MovementInput",
    "MovementOutcome",
    "ReservationLineInput",
    "Outcome",
    "balances_rebuild",
    "balance_sequences_skip",
    "terms_announce",
    "conflict_resolve",
    "demand_refused_record",
    "location_upsert",
    "movements_record",
    "reservation_place",
    "reservation_place_by_codes",
    "reservation_transition",
    "reservations_expire",
]
