"""The demo's channels as networks: the marketplace sells from the warehouse and the
distribution centre only, with three units of each T-shirt protected for it at the
warehouse (the web shop and the app see them gone), and the app keeps back what its
rate of sale says (the velocity policy, recomputed now as the nightly job would).
Through the services, so running again changes nothing."""

from dataclasses import dataclass

from catalog.selectors import channels_by_code, skus_by_code
from config.access import Actor
from inventory.selectors import locations_by_code
from inventory.services.allocations import allocation_set
from inventory.services.buffers import buffers_recompute
from inventory.services.networks import channel_network_upsert

from .network import CHANNELS, demo_sku_codes

DEMO_ACTOR = Actor(name="user:demo")
MARKETPLACE_NETWORK = ("WH-DAV", "DC-MID")
PROTECTED_AT = "WH-DAV"
PROTECTED_UNITS = 3


@dataclass
class DemoChannels:
    network: tuple[str, ...]
    protected_skus: int
    velocity_buffers: int


def demo_channels_build() -> DemoChannels:
    names = {code: name for code, name, *_ in CHANNELS}
    locations = locations_by_code(codes={*MARKETPLACE_NETWORK, PROTECTED_AT})
    channel_network_upsert(
        code="marketplace",
        name=names["marketplace"],
        actor=DEMO_ACTOR,
        sells_from=[locations[code] for code in MARKETPLACE_NETWORK],
    )
    channel_network_upsert(
        code="app", name=names["app"], actor=DEMO_ACTOR, buffer_policy="velocity"
    )
    channels = channels_by_code(codes={"marketplace", "app"})
    tees = [
        sku
        for code, sku in sorted(skus_by_code(codes=set(demo_sku_codes())).items())
        if code.startswith("TEE")
    ]
    for sku in tees:
        allocation_set(
            channel=channels["marketplace"],
            sku=sku,
            location=locations[PROTECTED_AT],
            units=PROTECTED_UNITS,
            actor=DEMO_ACTOR,
        )
    result = buffers_recompute(channel=channels["app"], actor=DEMO_ACTOR)
    return DemoChannels(
        network=MARKETPLACE_NETWORK,
        protected_skus=len(tees),
        velocity_buffers=result.written,
    )
