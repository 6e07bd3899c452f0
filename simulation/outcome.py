"""What a simulated trading day leaves for the report: the refusals shoppers met
and why, the tallies of what the simulated people did, and the day's result."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from .config import DayConfig, Policy
from .floor import ShopFloor
from .network import Network


@dataclass
class Refusal:
    stage: str  # "cart", "browse", "checkout" or "order"
    channel: str
    location: str | None
    units: int
    # The system had the units but the buffer kept them back.
    by_buffer: bool
    # The units were physically there, free of every other promise.
    physically_there: bool


@dataclass
class Tallies:
    """What the simulated people did and met, for the report."""

    shoppers: Counter = field(default_factory=Counter)
    refusals: list[Refusal] = field(default_factory=list)
    walk_in_units_wanted: int = 0
    walk_in_units_sold: int = 0
    pos_events: Counter = field(default_factory=Counter)
    pos_lag_seconds: list[float] = field(default_factory=list)
    not_found: Counter = field(default_factory=Counter)  # location -> units
    stock_cancelled: Counter = field(default_factory=Counter)  # location -> units
    stock_cancelled_orders: set = field(default_factory=set)
    customer_cancelled_units: int = 0
    # Units a packer could not find that the system re-routed to another location:
    # cancelled on the first line, ordered again on the new one, no sale lost.
    rerouted_units: int = 0
    customer_returns: int = 0
    accuracy_before_counts: float = 0.0
    accuracy_after_counts: float = 0.0
    counted_lines: int = 0
    # Approvals the system refused: the source could no longer spare the units.
    transfer_approvals_refused: int = 0


@dataclass
class DayResult:
    policy: Policy
    config: DayConfig
    network: Network
    floor: ShopFloor
    tallies: Tallies
    opens: datetime
    closes: datetime
