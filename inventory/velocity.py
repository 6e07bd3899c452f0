"""The velocity tiers: how many units a channel keeps back at a SKU-location from how
fast that SKU sells there. One definition, used by the live buffers
(``inventory.services.buffers``, for channels whose ``buffer_policy`` is
``velocity``) and by the simulator (``simulation.network``), which chose it.

Slow movers keep back 0-1 units, fast movers 2-3: a unit a week is rarely sold twice
in an hour, and as sales speed up so does the chance that a till sells the last unit
before the back office hears of it (docs/simulation.md, docs/channels.md).

Imports nothing from the project.
"""

# (sold fewer than this many units a day, units kept back); faster still: the top.
TIERS: tuple[tuple[float, int], ...] = ((0.5, 0), (2.0, 1), (5.0, 2))
TOP_TIER = 3


def velocity_buffer(rate: float) -> int:
    """The units kept back for a rate of sale of ``rate`` units a day."""
    for below, units in TIERS:
        if rate < below:
            return units
    return TOP_TIER
