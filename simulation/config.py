"""What a simulated day is made of (its size and its shoppers' habits) and the
policies it compares. Plain values: the same config and seed give the same day."""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

BUFFERS = ("0", "1", "2", "velocity")
POS_SYNCS = ("realtime", "hourly", "nightly")
RESERVE_AT = ("cart", "checkout")
# The channels a protection may be for, the first the one a bare ``allocation=N``
# names: the marketplace, whose cancellations cost the most (a marketplace suspends
# a seller above a few per cent), then the web shop and app, then the tills' walk-in
# trade at the stores.
ALLOCATION_CHANNELS = ("marketplace", "web", "app", "pos")
# More units than a store ever holds of one SKU is a typing error, not a plan.
MAX_ALLOCATION_UNITS = 99
# Store-to-store transfers: "off" (the default: nobody acts on the proposals), "on"
# (the manager approves every proposal), or "on:COST": only those whose cost per
# unit they save (the proposal's cost over its expected units saved) is at most COST.
TRANSFERS = ("off", "on")


class PolicyError(ValueError):
    """A policy named in a way the simulator does not know."""


@dataclass(frozen=True)
class Policy:
    """One way of running the business, to compare with another on the same day.

    - ``buffer``: units every online channel keeps back at each location ("0", "1",
      "2"), or "velocity": each SKU's own buffer from its rate of sale.
    - ``pos_sync``: the tills send each sale as it happens ("realtime", with the
      network's delays), or in one batch at the end of each hour ("hourly") or of the
      day ("nightly").
    - ``reserve_at``: an online shopper's units are held when they go in the cart
      ("cart") or only when the order is placed ("checkout").
    - ``allocation``: "none", or "CHANNEL:N": N units of every SKU protected for
      CHANNEL (``ALLOCATION_CHANNELS``) at each location it sells from in the day
      (``network.allocation_locations``); a bare "N" is for the marketplace.
    - ``transfers``: "off", or "on": before opening the area manager runs the
      transfer proposals and approves them, the sending stores dispatch at opening
      and the receiving stores receive after the lane's lead time; "on:COST"
      approves only the proposals whose cost per unit saved is at most COST.
    """

    buffer: str = "velocity"
    pos_sync: str = "realtime"
    reserve_at: str = "cart"
    allocation: str = "none"
    transfers: str = "off"

    def __post_init__(self):
        for name, allowed in (
            ("buffer", BUFFERS),
            ("pos_sync", POS_SYNCS),
            ("reserve_at", RESERVE_AT),
        ):
            if getattr(self, name) not in allowed:
                raise PolicyError(
                    f"{name} must be one of {', '.join(allowed)}, "
                    f"not {getattr(self, name)!r}."
                )
        # Frozen, so the one spelling is set through object.__setattr__.
        object.__setattr__(self, "allocation", _allocation(self.allocation))
        object.__setattr__(self, "transfers", _transfers(self.transfers))

    @property
    def allocation_channel(self) -> str | None:
        """The channel the units are protected for; None under ``allocation=none``."""
        return None if self.allocation == "none" else self.allocation.split(":")[0]

    @property
    def allocation_units(self) -> int:
        return 0 if self.allocation == "none" else int(self.allocation.split(":")[1])

    @property
    def transfers_on(self) -> bool:
        return self.transfers != "off"

    @property
    def transfer_cost_limit(self) -> Decimal | None:
        """The most a proposal may cost per unit it saves to be approved; None: any."""
        _, sep, limit = self.transfers.partition(":")
        return Decimal(limit) if sep else None

    @property
    def label(self) -> str:
        label = f"buffer {self.buffer}, POS {self.pos_sync}, hold at {self.reserve_at}"
        if self.allocation_channel:
            label += (
                f", {self.allocation_units} protected for {self.allocation_channel}"
            )
        if self.transfer_cost_limit is not None:
            label += f", transfers up to {self.transfer_cost_limit} a unit saved"
        elif self.transfers_on:
            label += ", transfers on"
        return label

    @classmethod
    def parse(cls, text: str) -> "Policy":
        """``buffer=velocity,pos=hourly,reserve=checkout,allocation=marketplace:1``,
        ``transfers=on``; anything left out keeps the default."""
        aliases = {"pos": "pos_sync", "reserve": "reserve_at", "sync": "pos_sync"}
        keys = ("buffer", "pos_sync", "reserve_at", "allocation", "transfers")
        values: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            key = aliases.get(key.strip(), key.strip())
            if not sep or key not in keys:
                raise PolicyError(
                    f"{part!r}: say buffer=…, pos=…, reserve=…, allocation=… or "
                    "transfers=… (e.g. buffer=2,pos=hourly or allocation=marketplace:1)."
                )
            values[key] = value.strip()
        return cls(**values)


def _allocation(text: str) -> str:
    """``none``, or ``CHANNEL:N`` (a bare ``N`` is the marketplace's), spelt one way."""
    value = str(text).strip().lower()
    if value == "none":
        return value
    channel, sep, units = value.rpartition(":")
    channel = channel.strip() if sep else ALLOCATION_CHANNELS[0]
    units = units.strip()
    if (
        channel in ALLOCATION_CHANNELS
        and units.isascii()
        and units.isdigit()
        and 1 <= int(units) <= MAX_ALLOCATION_UNITS
    ):
        return f"{channel}:{int(units)}"
    raise PolicyError(
        f"allocation must be none, N or CHANNEL:N (N units from 1 to "
        f"{MAX_ALLOCATION_UNITS}, CHANNEL one of {', '.join(ALLOCATION_CHANNELS)}; "
        f"a bare N is for {ALLOCATION_CHANNELS[0]}), not {text!r}."
    )


def _transfers(text: str) -> str:
    """``off``, ``on``, or ``on:COST`` (a cost in the shop's currency), spelt one way."""
    value = str(text).strip().lower()
    state, sep, limit = value.partition(":")
    if not sep and state in TRANSFERS:
        return state
    try:
        cost = Decimal(limit.strip().lstrip("£"))
    except (InvalidOperation, ValueError):
        cost = None
    if state == "on" and cost is not None and cost.is_finite() and cost >= 0:
        return f"on:{cost.quantize(Decimal('0.01'))}"
    raise PolicyError(
        "transfers must be off, on, or on:COST (approve only the proposals costing "
        f"at most COST a unit saved, e.g. on:1.50), not {text!r}."
    )


# The comparison the simulate command runs with --compare. The fourth row is the
# chosen default (docs/simulation.md); every other row changes one thing from it, so
# a difference has one cause. The last two protect a unit of every SKU, for the
# marketplace and for the tills: what protection costs in lost sales against what it
# saves in oversells.
COMPARISON = (
    Policy(buffer="0", pos_sync="realtime", reserve_at="cart"),
    Policy(buffer="1", pos_sync="realtime", reserve_at="cart"),
    Policy(buffer="2", pos_sync="realtime", reserve_at="cart"),
    Policy(buffer="velocity", pos_sync="realtime", reserve_at="cart"),
    Policy(buffer="velocity", pos_sync="hourly", reserve_at="cart"),
    Policy(buffer="velocity", pos_sync="nightly", reserve_at="cart"),
    Policy(buffer="velocity", pos_sync="realtime", reserve_at="checkout"),
    Policy(allocation="marketplace:1"),
    Policy(allocation="pos:1"),
)


@dataclass(frozen=True)
class DayConfig:
    """The network and the day's trade. Rates are per hour of opening."""

    seed: int = 1
    stores: int = 20
    skus: int = 2000
    hours: int = 12
    # The day's first hour (UTC); a fixed date keeps a seed's day the same.
    opens_at: datetime = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    # Days of its expected sales a store holds at opening (at least one unit).
    store_days_of_cover: float = 3.0
    # The opening stock's imbalance (``network.stock_shape``), drawn from the seed
    # like the demand, so every policy compared opens with the same shelves: the
    # share of SKU-stores overstocked (60 to 120 days of their expected sales, at
    # least three units: dead stock) and the share understocked (under a day of
    # them, mostly none: sold out ahead of replenishment). None by default.
    overstock_share: float = 0.0
    understock_share: float = 0.0
    # Walk-in till transactions per store per hour.
    till_sales_per_store_hour: float = 14.0
    # Online shoppers (web, app, marketplace) across the network per hour.
    online_shoppers_per_hour: float = 160.0
    # Share of online orders collected at a store (the rest are shipped).
    pickup_share: float = 0.45
    # Share of shoppers who put an item in the cart and then leave.
    abandon_rate: float = 0.3
    # Share of orders the customer cancels before they are picked.
    customer_cancel_rate: float = 0.03
    # Minutes between adding to the cart and placing the order (median).
    cart_minutes: float = 6.0
    # A till event's delay to the back office in real time: a lognormal with this
    # median and 95th percentile, in seconds.
    pos_delay_median_s: float = 20.0
    pos_delay_p95_s: float = 600.0
    # Share of till events the till sends twice.
    pos_duplicate_rate: float = 0.02
    # Units lost from shelves without a record (theft, damage nobody reported), as a
    # share of units sold in store.
    shrink_rate: float = 0.02
    # Chance a picker does not find a unit that is on the shelf (misplaced).
    misplaced_rate: float = 0.01
    # Chance a counter miscounts a line by a unit or two.
    count_error_rate: float = 0.03
    # Share of collected or delivered orders brought back to a store the same day.
    return_rate: float = 0.06
    # Share of returned units graded sellable.
    return_sellable_rate: float = 0.8
    # Minutes between store staff's rounds of the pickup queue.
    pickup_round_minutes: int = 15
    policies: tuple[Policy, ...] = field(default_factory=lambda: (Policy(),))

    def with_policies(self, policies) -> "DayConfig":
        return replace(self, policies=tuple(policies))

    def check(self) -> None:
        """Refuse a day that cannot be simulated, naming the setting."""
        problems = []
        for name in ("stores", "skus", "hours"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1")
        if self.hours > 24:
            problems.append("hours must be at most 24 (one trading day)")
        for name in (
            "pickup_share",
            "abandon_rate",
            "customer_cancel_rate",
            "pos_duplicate_rate",
            "shrink_rate",
            "misplaced_rate",
            "count_error_rate",
            "return_rate",
            "return_sellable_rate",
            "overstock_share",
            "understock_share",
        ):
            if not 0 <= getattr(self, name) <= 1:
                problems.append(f"{name} must be between 0 and 1")
        if self.overstock_share + self.understock_share > 1:
            problems.append(
                "overstock_share and understock_share must not add up to more than 1"
            )
        for name in (
            "till_sales_per_store_hour",
            "online_shoppers_per_hour",
            "cart_minutes",
            "store_days_of_cover",
            "pos_delay_median_s",
            "pos_delay_p95_s",
        ):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be above 0")
        if self.pos_delay_p95_s < self.pos_delay_median_s:
            problems.append("the delay's 95th percentile must not be below its median")
        if problems:
            raise ValueError("; ".join(problems) + ".")
