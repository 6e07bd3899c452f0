"""The web shop announces returns through the API; the store sees them coming."""

import pytest

from inventory.models import StockBalance
from returns.models import Return
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, ChannelFactory, balance_of, delivered_order
from tests.threads import all_at_once


def announcement(reference="RMA-77", order="WEB-3001", quantity=1, **extra):
    return {
        "reference": reference,
        "order": order,
        "location": "LON-OXF",
        "customer": {"name": "Ada Byron", "email": "ada@example.com"},
        "lines": [{"sku": "TEE-BLK-M", "quantity": quantity, "reason": "wrong_size"}],
        **extra,
    }


@pytest.fixture
def web_shop(shop):
    """The web shop's own token: it acts for channel ``web`` only."""
    return client_for(ApiTokenFactory.issue(name="web-shop", channel_code="web")[1])


def test_announced_return_reads_back_with_its_state_and_timeline(shop, web_shop):
    delivered_order(shop, lines=[(shop["tee"], 2)])

    created = web_shop.post("/api/v1/returns/", announcement(), format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["channel"], body["order"]) == (
        "expected",
        "web",
        "WEB-3001",
    )
    assert body["lines"][0]["expected_quantity"] == 1
    assert body["timeline"][0]["kind"] == "announced"
    assert body["timeline"][0]["actor"] == "token:web-shop"
    read = web_shop.get(f"/api/v1/returns/{body['id']}/")
    assert read.status_code == 200 and read.json() == body
    assert balance_of(shop["tee"], shop["oxford"]).incoming == 1


def test_duplicate_announcements_change_nothing(shop, web_shop):
    delivered_order(shop, lines=[(shop["tee"], 2)])
    first = web_shop.post("/api/v1/returns/", announcement(), format="json")

    again = web_shop.post("/api/v1/returns/", announcement(), format="json")
    clash = web_shop.post("/api/v1/returns/", announcement(quantity=2), format="json")

    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert clash.status_code == 409
    assert clash.json()["code"] == "return_reference_clash"
    assert Return.objects.count() == 1
    assert balance_of(shop["tee"], shop["oxford"]).incoming == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_announcement_sent_twice_at_once_is_one_return(shop):
    delivered_order(shop)
    _, raw = ApiTokenFactory.issue(name="web-shop", channel_code="web")

    answers = all_at_once(
        2,
        lambda n: client_for(raw).post(
            "/api/v1/returns/", announcement(), format="json"
        ),
    )

    assert sorted(a.status_code for a in answers) == [200, 201]
    assert Return.objects.count() == 1
    assert balance_of(shop["tee"], shop["oxford"]).incoming == 1


@pytest.mark.django_db(transaction=True)
def test_two_returns_for_the_last_returnable_unit_one_wins(shop):
    delivered_order(shop)
    _, raw = ApiTokenFactory.issue(name="web-shop", channel_code="web")

    answers = all_at_once(
        2,
        lambda n: client_for(raw).post(
            "/api/v1/returns/", announcement(reference=f"RMA-{n}"), format="json"
        ),
    )

    assert sorted(a.status_code for a in answers) == [201, 400]
    assert Return.objects.count() == 1
    assert balance_of(shop["tee"], shop["oxford"]).incoming == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"order": "WEB-9999"}, "order"),
        ({"location": "NOWHERE"}, "location"),
        ({"lines": [{"sku": "NOPE", "quantity": 1, "reason": "wrong_size"}]}, "lines"),
        ({"lines": [{"sku": "TEE-BLK-M", "quantity": 1, "reason": "bored"}]}, "lines"),
        (
            {"lines": [{"sku": "TEE-BLK-M", "quantity": 2, "reason": "defective"}]},
            "lines",
        ),
        ({"lines": [{"sku": "TEE-BLK-M", "quantity": 1, "reason": "other"}]}, "lines"),
        ({"lines": []}, "lines"),
        ({"colour": "red"}, "colour"),
        ({"reference": "#mine"}, "reference"),
    ],
)
def test_bad_announcements_are_400s_that_change_nothing(shop, web_shop, change, field):
    delivered_order(shop)

    answer = web_shop.post("/api/v1/returns/", announcement(**change), format="json")

    assert answer.status_code == 400, answer.json()
    assert field in answer.json(), answer.json()
    assert Return.objects.count() == 0
    assert not StockBalance.objects.filter(location=shop["oxford"]).exists()


def test_a_channel_token_sees_and_announces_only_its_own(shop, web_shop, api):
    delivered_order(shop)
    ChannelFactory(code="marketplace", kind="marketplace")
    mine = web_shop.post("/api/v1/returns/", announcement(), format="json").json()
    market = client_for(
        ApiTokenFactory.issue(name="market", channel_code="marketplace")[1]
    )

    assert market.get(f"/api/v1/returns/{mine['id']}/").status_code == 404
    assert market.get("/api/v1/returns/").json()["count"] == 0
    refused = market.post(
        "/api/v1/returns/", announcement(channel="web"), format="json"
    )
    assert refused.status_code == 403
    assert api.get("/api/v1/returns/").json()["count"] == 1


def test_list_filters(shop, api):
    delivered_order(shop, lines=[(shop["tee"], 1), (shop["hoodie"], 1)])
    api.post("/api/v1/returns/", announcement(channel="web"), format="json")
    hoodie = announcement(reference="RMA-78", channel="web")
    hoodie["lines"] = [{"sku": "HOOD-GRE-L", "quantity": 1, "reason": "defective"}]
    api.post("/api/v1/returns/", hoodie, format="json")

    def refs(query):
        answer = api.get(f"/api/v1/returns/?{query}")
        assert answer.status_code == 200, answer.json()
        return sorted(r["reference"] for r in answer.json()["results"])

    assert refs("reason=defective") == ["RMA-78"]
    assert refs("sku=TEE-BLK-M") == ["RMA-77"]
    assert refs("status=expected&location=LON-OXF") == ["RMA-77", "RMA-78"]
    assert refs("status=received") == []
    assert refs("order=WEB-3001&channel=web") == ["RMA-77", "RMA-78"]
    assert refs("overdue=true") == []


def test_cancel_and_close_through_the_api(shop, web_shop):
    delivered_order(shop)
    found = web_shop.post("/api/v1/returns/", announcement(), format="json").json()

    closed_early = web_shop.post(
        f"/api/v1/returns/{found['id']}/close/", {}, format="json"
    )
    no_reason = web_shop.post(
        f"/api/v1/returns/{found['id']}/cancel/", {}, format="json"
    )
    cancelled = web_shop.post(
        f"/api/v1/returns/{found['id']}/cancel/",
        {"reason": "Customer kept it"},
        format="json",
    )

    assert closed_early.status_code == 409
    assert closed_early.json()["code"] == "return_transition_refused"
    assert no_reason.status_code == 400
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert balance_of(shop["tee"], shop["oxford"]).incoming == 0


def test_a_refused_move_says_where_the_return_is_and_where_it_may_go(shop, web_shop):
    delivered_order(shop)
    found = web_shop.post("/api/v1/returns/", announcement(), format="json").json()

    closed_early = web_shop.post(
        f"/api/v1/returns/{found['id']}/close/", {}, format="json"
    )

    assert closed_early.status_code == 409
    refused = closed_early.json()
    assert refused["code"] == "return_transition_refused"
    assert refused["detail"] == (
        f"Return {found['reference']} is expected: announced, not yet here; it "
        "cannot become closed."
    )
    assert (refused["current_status"], refused["allowed"]) == (
        "expected",
        ["cancelled", "received"],
    )


def test_the_same_unit_twice_in_one_announcement_is_refused(shop, web_shop):
    delivered_order(shop)
    twice = announcement()
    twice["lines"] = [
        {"sku": "TEE-BLK-M", "quantity": 1, "reason": "wrong_size"},
        {"sku": "TEE-BLK-M", "quantity": 1, "reason": "defective"},
    ]

    answer = web_shop.post("/api/v1/returns/", twice, format="json")

    assert answer.status_code == 400
    assert answer.json()["lines"][1]["quantity"] == [
        "Only 0 of TEE-BLK-M can come back: 1 bought on order WEB-3001, the rest "
        "already returned or announced."
    ]
    assert Return.objects.count() == 0


def test_a_web_shop_cannot_announce_by_till_receipt(shop, web_shop):
    delivered_order(shop)
    by_receipt = announcement(till_receipt="0042-1187")
    del by_receipt["order"]

    answer = web_shop.post("/api/v1/returns/", by_receipt, format="json")

    assert answer.status_code == 400
    assert "is not a till" in answer.json()["till_receipt"][0]
    assert Return.objects.count() == 0
