"""Writes to orders: placing an order (from a checkout's hold, or reserved and
committed in one step, each line given the location that fulfils it, routed or not:
``placing``, ``planning``; a kit line as its component lines: ``kits``), and
moving its lines on (pick, ship, collect, cancel in whole or in part, the units a
picker could not find, a line added, ready, close, a cancelled pick put back on the
shelf: ``lines``, through the one engine in ``moves``; kits cancelled whole:
``kit_moves``), each change recorded on the order's timeline with its request
reference (``timeline``); pre-ordered units waiting for dated supply, and what
becomes of them when it lands or moves (``preorders``); a click-and-collect order
moved to another pickup store (``relocation``: the order's part; pickup moves its
task and asks for the transfers); units a packer of a shipped order could not find,
re-routed or decided on (``packing``, ``packing_decisions``).

Each service is one transaction; every change after placing is made under the
order's row lock. Stock moves only through ``inventory.services``; the order's
status is derived from its lines and must be allowed by ``Order.TRANSITIONS``;
every change is an ``OrderEvent`` with who, when, why, from which system and the
service's ``action`` key. Every service takes ``actor: Actor``; a request may carry
a ``request_reference`` (the actor's): the same key again answers with the order as
it is and changes nothing.
"""

from .inputs import (
    MAX_LINES,
    Customer,
    Delivery,
    KitQuantity,
    KitSplitRefused,
    LineQuantity,
    OrderLineInput,
    OrderReferenceClash,
    OrderTransitionRefused,
    RequestReferenceClash,
    ReservationAlreadyOrdered,
)
from .lines import (
    order_add_line,
    order_cancel,
    order_cancel_short,
    order_close,
    order_collect,
    order_mark_ready,
    order_pick,
    order_refill_short,
    order_report_short,
    order_ship,
    return_to_stock_confirm,
)
from .packing import PackingRefused, packing_report_short
from .packing_decisions import (
    packing_problem_cancel,
    packing_problem_ship_later,
    packing_problem_substitute,
)
from .placing import ROUTING_ATTEMPTS, order_place
from .planning import ROUTING_WEIGHTS

__all__ = [
    "MAX_LINES",
    "ROUTING_ATTEMPTS",
    "ROUTING_WEIGHTS",
    "Customer",
    "Delivery",
    "KitQuantity",
    "KitSplitRefused",
    "LineQuantity",
    "OrderLineInput",
    "OrderReferenceClash",
    "OrderTransitionRefused",
    "PackingRefused",
    "RequestReferenceClash",
    "ReservationAlreadyOrdered",
    "order_add_line",
    "order_cancel",
    "order_cancel_short",
    "order_close",
    "order_collect",
    "order_mark_ready",
    "order_pick",
    "order_place",
    "order_refill_short",
    "order_report_short",
    "order_ship",
    "packing_problem_cancel",
    "packing_problem_ship_later",
    "packing_problem_substitute",
    "packing_report_short",
    "return_to_stock_confirm",
]
