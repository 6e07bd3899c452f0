"""Fixtures of reconciliation's stories."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from config.access import Actor
from inventory.models import MovementType
from orders import services as orders
from reconciliation.services import Raised, exception_raise
from reconciliation.services.rates import sales_rates_refresh
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    StockEvents,
    pickup_order,
    stock,
)


@pytest.fixture
def till(shop):
    """The Oxford Street tills, sending with a token bound to their channel."""
    channel = ChannelFactory(code="oxf-till", kind="store_pos", name="Oxford tills")
    api = APIClient()
    _, token = ApiTokenFactory.issue(name="oxford tills", channel_code="oxf-till")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return {"channel": channel, "api": api}


@pytest.fixture
def month(shop):
    """Four weeks at Oxford Street: tees sell slowly, hoodies fast and nearly gone
    (more are on their way); one web order of two lines had a line cancelled; one
    oversell conflict; an old open case."""
    till = ChannelFactory(code="oxf-till", kind="store_pos")
    days_ago = timezone.now() - timedelta(days=10)
    stock(shop["tee"], shop["oxford"], 12)
    stock(shop["hoodie"], shop["oxford"], 16)
    for sku, units in ((shop["tee"], 7), (shop["hoodie"], 14)):
        StockEvents.post(
            MovementType.SALE,
            sku=sku,
            location=shop["oxford"],
            quantity=units,
            channel=till,
            occurred_at=days_ago,
        )
    StockEvents.post(
        MovementType.RECEIPT_EXPECTED,
        sku=shop["hoodie"],
        location=shop["oxford"],
        quantity=5,
    )
    order = pickup_order(shop, lines=[(shop["tee"], 2), (shop["hoodie"], 2)])
    hoodie_line = order.lines.get(sku=shop["hoodie"])
    orders.order_cancel(
        order_id=order.pk,
        lines=[orders.LineQuantity(line_id=hoodie_line.pk, quantity=2)],
        reason="customer changed their mind",
        actor=Actor(name="token:web-shop", source="web"),
    )
    StockEvents.post(  # the till sells a tee already promised online: a conflict
        MovementType.SALE,
        sku=shop["tee"],
        location=shop["oxford"],
        quantity=4,
        channel=till,
    )
    case = exception_raise(
        raised=Raised(
            kind="item_not_found", key="old", title="Old", location=shop["oxford"]
        )
    )
    case.__class__.objects.filter(pk=case.pk).update(
        first_raised_at=timezone.now() - timedelta(days=4)
    )
    sales_rates_refresh()  # as the night before the manager looks
    return shop
