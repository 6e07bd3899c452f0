"""The physical truth the simulator knows and the system does not: how many units
are really on each shelf, in each pickup-hold area, on the returns bench and in the
damaged pile, and on the road between two locations. The system only hears of them
through events; the report compares the two. Every unit that enters or leaves is
tallied, so the books always balance."""

from collections import Counter
from dataclasses import dataclass, field

Key = tuple[str, str]  # (sku code, location code)


@dataclass
class ShopFloor:
    shelf: Counter = field(default_factory=Counter)
    # Units picked for an order, in its location's pickup-hold area or packing bench.
    held: Counter = field(default_factory=Counter)
    bench: Counter = field(default_factory=Counter)  # returns waiting for a grade
    damaged: Counter = field(default_factory=Counter)
    # Units sent from another location, by where they are going: in no one's shop.
    in_transit: Counter = field(default_factory=Counter)
    # Units in and out, by what moved them.
    came_in: Counter = field(default_factory=Counter)
    went_out: Counter = field(default_factory=Counter)

    def receive(self, key: Key, units: int) -> None:
        self.shelf[key] += units
        self.came_in["opening stock"] += units

    def sell_at_till(self, key: Key, wanted: int) -> int:
        """A walk-in shopper takes what the shelf has, up to what they want."""
        taken = min(wanted, self.shelf[key])
        self.shelf[key] -= taken
        self.went_out["sold at the tills"] += taken
        return taken

    def lose(self, key: Key) -> int:
        taken = min(1, self.shelf[key])
        self.shelf[key] -= taken
        self.went_out["lost from the shelf (shrink)"] += taken
        return taken

    def pick(self, key: Key, units: int) -> None:
        assert self.shelf[key] >= units, key
        self.shelf[key] -= units
        self.held[key] += units

    def hand_over(self, key: Key, units: int, how: str) -> None:
        assert self.held[key] >= units, key
        self.held[key] -= units
        self.went_out[how] += units

    def take_back(self, key: Key, units: int) -> None:
        self.bench[key] += units
        self.came_in["returned by customers"] += units

    def grade(self, key: Key, units: int, resellable: bool) -> None:
        assert self.bench[key] >= units, key
        self.bench[key] -= units
        (self.shelf if resellable else self.damaged)[key] += units

    def send(self, key: Key, to: Key, units: int) -> int:
        """The sending store puts the units in the van: those on its shelf, up to
        what the transfer says."""
        sent = min(units, self.shelf[key])
        self.shelf[key] -= sent
        self.in_transit[to] += sent
        return sent

    def arrive(self, key: Key, units: int) -> None:
        assert self.in_transit[key] >= units, key
        self.in_transit[key] -= units
        self.shelf[key] += units

    def on_hand(self, key: Key) -> int:
        """What a counter finds there: every unit at the location."""
        return self.shelf[key] + self.held[key] + self.bench[key] + self.damaged[key]

    def keys(self) -> set[Key]:
        return {
            key
            for counter in (self.shelf, self.held, self.bench, self.damaged)
            for key, units in counter.items()
            if units
        } | set(self.shelf)

    def balanced(self) -> bool:
        """Units in = units out + units still here (or on the road): none made or
        lost by the model."""
        here = sum(
            sum(counter.values())
            for counter in (
                self.shelf,
                self.held,
                self.bench,
                self.damaged,
                self.in_transit,
            )
        )
        return sum(self.came_in.values()) == sum(self.went_out.values()) + here
