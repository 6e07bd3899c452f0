"""The small shop most inventory stories happen in."""

import pytest

from tests.factories import ChannelFactory, LocationFactory, SkuFactory


@pytest.fixture
def shop(db):
    """A store and a warehouse, two SKUs, the tills, two sales channels with their
    safety buffers, and the warehouse system."""
    return {
        "store": LocationFactory(code="LON-OXF"),
        "warehouse": LocationFactory(code="WH-DAV", kind="warehouse"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "hoodie": SkuFactory(code="HOOD-GRE-L"),
        "pos": ChannelFactory(code="pos", kind="store_pos"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=2),
        "marketplace": ChannelFactory(code="mkt", kind="marketplace", safety_buffer=5),
        "wms": ChannelFactory(code="wms", kind="back_office"),
    }
