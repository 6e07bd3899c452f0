"""Every screen that follows what others do starts with the digest its first poll
compares with: a poll of a page nothing has changed on answers 204, swaps nothing
and disturbs nobody's typing (config.screens.live, live_digest, live_region)."""

import re

import pytest

from config.access import Actor
from returns.services import Purchase, ReturnLineInput, return_receive_at_counter
from tests.factories import delivered_order, pickup_order, stock

pytestmark = pytest.mark.django_db

SEEN = re.compile(
    r'id="(?P<id>[\w-]+)"[^>]*hx-get="(?P<url>[^"]+)"[^>]*"X-Seen": "(?P<seen>\w+)"'
)


def polls(client, path):
    """Each live region of the page, and what its first poll answers."""
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    regions = [m.groupdict() for m in SEEN.finditer(html)]
    assert regions, f"no live region on {path}"
    return {
        region["id"]: client.get(
            region["url"].replace("&amp;", "&"),
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET=region["id"],
            HTTP_X_SEEN=region["seen"],
        ).status_code
        for region in regions
    }


def test_the_pickup_screens_first_polls_swap_nothing(shop, client):
    stock(shop["tee"], shop["oxford"], 2)
    order = pickup_order(shop, "WEB-4401", lines=[(shop["tee"], 1)])
    client.force_login(shop["alice"])
    assert polls(client, "/store/") == {"board": 204}
    assert polls(client, "/store/problems/") == {"problems": 204}
    assert polls(client, f"/store/tasks/{order.pickup_task.pk}/") == {"task": 204}


def test_the_returns_and_exception_screens_first_polls_swap_nothing(shop, client):
    order = delivered_order(shop, lines=[(shop["tee"], 1)])
    received = return_receive_at_counter(
        purchase=Purchase(channel=shop["web"], order=order),
        location=shop["oxford"],
        lines=[ReturnLineInput(sku=shop["tee"], quantity=1, reason="defective")],
        actor=Actor.of_user(shop["alice"]),
    )
    client.force_login(shop["maria"])
    assert polls(client, "/store/returns/") == {"queue": 204}
    assert polls(client, f"/store/returns/{received.pk}/") == {"return": 204}
    assert polls(client, "/store/exceptions/") == {"exception-list": 204}
