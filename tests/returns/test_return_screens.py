"""The returns counter and inspection bench, through the screens a store uses."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from returns.models import Return
from returns.services import returns_flag_overdue
from tests.factories import (
    ChannelFactory,
    StaffFactory,
    balance_of,
    delivered_order,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice(client, shop):
    client.force_login(shop["alice"])
    return client


def test_the_counter_finds_the_purchase_by_number_name_or_scan(shop, alice):
    order = delivered_order(shop, name="Grace Hopper", email="grace@example.com")

    for search in ("WEB-3001", "grace hop", "grace@example.com", "5012345678900"):
        page = alice.get("/store/returns/", {"q": search}, **HTMX)
        assert page.status_code == 200
        assert f"/store/returns/receive/order/{order.pk}/" in page.content.decode(), (
            search
        )
    nothing = alice.get("/store/returns/", {"q": "nobody"}, **HTMX).content.decode()
    assert "No delivered order matches" in nothing


def test_receive_at_the_counter_then_grade_on_the_bench(shop, alice):
    order = delivered_order(shop, lines=[(shop["tee"], 2)])
    line = order.lines.get()

    answer = alice.post(
        f"/store/returns/receive/order/{order.pk}/",
        {f"quantity-{line.pk}": "2", f"reason-{line.pk}": "wrong_size"},
    )

    found = Return.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/store/returns/{found.pk}/"
    assert found.location == shop["oxford"] and found.received_by == "user:alice"
    page = alice.get(answer["Location"]).content.decode()
    assert "2 units received into quality control" in page
    assert balance_of(shop["tee"], shop["oxford"]).available == 0

    return_line = found.lines.get()
    graded = alice.post(
        f"/store/returns/{found.pk}/grade/",
        {"line": return_line.pk, "grade": "resellable", "quantity": "1"},
        **HTMX,
    )
    assert "Say where you put it" in graded.content.decode()
    assert balance_of(shop["tee"], shop["oxford"]).available == 0

    alice.post(
        f"/store/returns/{found.pk}/grade/",
        {
            "line": return_line.pk,
            "grade": "resellable",
            "quantity": "1",
            "shelf_location": "Rail 4",
        },
        **HTMX,
    )
    done = alice.post(
        f"/store/returns/{found.pk}/grade/",
        {"line": return_line.pk, "grade": "damaged", "quantity": "1"},
        **HTMX,
    ).content.decode()
    assert "Graded, to close" in done  # as the store says it, not "graded"
    assert "Graded 1 × TEE-BLK-M: Damaged" in done
    balance = balance_of(shop["tee"], shop["oxford"])
    assert (balance.available, balance.damaged, balance.quality_control) == (1, 1, 0)


def test_more_than_was_bought_is_refused_on_the_form_and_nothing_kept(shop, alice):
    order = delivered_order(shop)
    line = order.lines.get()

    answer = alice.post(
        f"/store/returns/receive/order/{order.pk}/",
        {f"quantity-{line.pk}": "3", f"reason-{line.pk}": "wrong_size"},
    )

    assert answer.status_code == 400
    assert "Only 1 of TEE-BLK-M can come back" in answer.content.decode()
    assert not Return.objects.exists()


def test_a_second_return_of_the_same_line_is_refused_with_a_clear_message(shop, alice):
    order = delivered_order(shop)
    line = order.lines.get()
    form = {f"quantity-{line.pk}": "1", f"reason-{line.pk}": "wrong_size"}
    alice.post(f"/store/returns/receive/order/{order.pk}/", form)

    again = alice.post(f"/store/returns/receive/order/{order.pk}/", form)

    assert again.status_code == 400
    assert "already returned or announced" in again.content.decode()
    assert Return.objects.count() == 1


def test_a_till_purchase_comes_back_by_receipt_and_scan(shop, alice):
    ChannelFactory(code="pos-oxf", name="Oxford tills", kind="store_pos")

    answer = alice.post(
        "/store/returns/receive/till/",
        {
            "till": "pos-oxf",
            "till_receipt": "0042-1187",
            "sku-1": "5012345678900",
            "quantity-1": "1",
            "reason-1": "changed_mind",
        },
    )

    found = Return.objects.get()
    assert answer.status_code == 302
    assert (found.till_receipt, found.lines.get().sku) == ("0042-1187", shop["tee"])
    unknown = alice.post(
        "/store/returns/receive/till/",
        {"till": "pos-oxf", "till_receipt": "1", "sku-1": "NOPE", "quantity-1": "1"},
    )
    assert unknown.status_code == 400
    assert "No item &#x27;NOPE&#x27;" in unknown.content.decode()


def test_staff_see_only_their_stores_queue(shop, client):
    order = delivered_order(shop)
    line = order.lines.get()
    client.force_login(shop["alice"])
    client.post(
        f"/store/returns/receive/order/{order.pk}/",
        {f"quantity-{line.pk}": "1", f"reason-{line.pk}": "defective"},
        follow=True,
    )
    found = Return.objects.get()

    client.force_login(shop["carol"])
    camden = client.get("/store/returns/", {"location": "LON-OXF"}).content.decode()
    assert found.reference not in camden
    assert "Camden" in camden
    assert client.get(f"/store/returns/{found.pk}/").status_code == 404
    refused = client.post(
        f"/store/returns/{found.pk}/grade/",
        {"line": found.lines.get().pk, "grade": "damaged", "quantity": "1"},
    )
    assert refused.status_code == 404
    assert balance_of(shop["tee"], shop["oxford"]).damaged == 0
    assert client.get("/store/returns/insight/").status_code == 403

    client.force_login(shop["maria"])
    oxford = client.get("/store/returns/", {"location": "LON-OXF"}).content.decode()
    assert found.reference in oxford


def test_an_announced_return_is_received_from_the_expected_list(shop, alice, api):
    delivered_order(shop, lines=[(shop["tee"], 2)])
    api.post(
        "/api/v1/returns/",
        {
            "reference": "RMA-9",
            "channel": "web",
            "order": "WEB-3001",
            "location": "LON-OXF",
            "lines": [{"sku": "TEE-BLK-M", "quantity": 2, "reason": "wrong_size"}],
        },
        format="json",
    )
    found = Return.objects.get()
    home = alice.get("/store/returns/").content.decode()
    assert "RMA-9" in home and "Expected here" in home

    line = found.lines.get()
    alice.post(f"/store/returns/{found.pk}/receive/", {f"quantity-{line.pk}": "2"})

    found.refresh_from_db()
    assert found.status == Return.Status.RECEIVED
    assert balance_of(shop["tee"], shop["oxford"]).quality_control == 2


def test_the_manager_sees_return_rates_and_overdue_inspections(shop, client):
    order = delivered_order(shop, lines=[(shop["tee"], 4)])
    line = order.lines.get()
    client.force_login(shop["alice"])
    client.post(
        f"/store/returns/receive/order/{order.pk}/",
        {f"quantity-{line.pk}": "1", f"reason-{line.pk}": "defective"},
    )
    found = Return.objects.get()
    assert returns_flag_overdue(now=timezone.now() + timedelta(hours=49)) == 1

    client.force_login(shop["maria"])
    page = client.get("/store/returns/insight/")
    text = page.content.decode()
    assert page.status_code == 200
    assert found.reference in text  # waiting too long
    assert "25.0 %" in text  # 1 of 4 web-shop units came back

    export = client.get("/store/returns/insight/", {"group": "sku", "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    tee = next(row for row in rows if row["sku"] == "TEE-BLK-M")
    assert (tee["sold_online"], tee["returned_online"]) == ("4", "1")
    assert tee["return_rate_online_pct"] == "25.0"

    bad = client.get("/store/returns/insight/", {"since": "yesterday"})
    assert bad.status_code == 400
    assert "is not a date" in bad.content.decode()


def test_a_parcel_announced_for_camden_is_received_at_oxford(shop, alice, api):
    delivered_order(shop)
    api.post(
        "/api/v1/returns/",
        {
            "reference": "RMA-CAM",
            "channel": "web",
            "order": "WEB-3001",
            "location": "LON-CAM",
            "lines": [{"sku": "TEE-BLK-M", "quantity": 1, "reason": "wrong_size"}],
        },
        format="json",
    )
    found = Return.objects.get()

    found_here = alice.get("/store/returns/", {"q": "RMA-CAM"}, **HTMX)
    page = alice.get(f"/store/returns/{found.pk}/").content.decode()
    assert f"/store/returns/{found.pk}/" in found_here.content.decode()
    assert "receiving it here at <strong>Oxford Street" in page
    line = found.lines.get()
    alice.post(
        f"/store/returns/{found.pk}/receive/",
        {f"quantity-{line.pk}": "1", "location": "LON-OXF"},
    )

    found.refresh_from_db()
    assert (found.status, found.location) == ("received", shop["oxford"])
    assert balance_of(shop["tee"], shop["oxford"]).quality_control == 1
    # Received at Oxford, it is Oxford's: Camden's team no longer sees it.
    alice.force_login(shop["carol"])
    assert alice.get(f"/store/returns/{found.pk}/").status_code == 404


def test_an_out_of_range_date_on_the_insight_page_is_a_message(shop, client):
    client.force_login(shop["maria"])

    answer = client.get("/store/returns/insight/", {"until": "9999-12-31"})

    assert answer.status_code == 400
    assert "is outside" in answer.content.decode()


def test_a_till_return_without_a_receipt_says_so_by_the_field_and_keeps_it_all(
    shop, alice
):
    ChannelFactory(code="pos-oxf", name="Oxford tills", kind="store_pos")
    form = {
        "till_receipt": "",
        "sku-1": "5012345678900",
        "quantity-1": "2",
        "reason-1": "changed_mind",
        "sku-6": "HOOD-GRE-L",  # a row the scanner added
        "quantity-6": "1",
        "reason-6": "other",
        "reason_text-6": "gift",
        "customer_name": "Ada Byron",
    }

    answer = alice.post("/store/returns/receive/till/", form)

    page = answer.content.decode()
    assert answer.status_code == 400 and not Return.objects.exists()
    receipt = page[
        page.index('id="till_receipt"') : page.index(
            "</div>", page.index('id="till_receipt"')
        )
    ]
    assert 'aria-invalid="true"' in receipt and "autofocus" in receipt
    assert "Scan or type the receipt number." in receipt
    for kept in (
        'value="5012345678900"',
        'value="HOOD-GRE-L"',
        'value="gift"',
        'value="Ada Byron"',
    ):
        assert kept in page
    assert 'id="sku-7"' in page  # an empty row after the last one scanned

    form["till_receipt"] = "0042-1190"
    received = alice.post("/store/returns/receive/till/", form)
    assert received.status_code == 302
    found = Return.objects.get()
    assert sorted(line.quantity for line in found.lines.all()) == [1, 2]


def test_the_till_form_says_what_a_scanned_code_is(shop, alice):
    known = alice.get("/store/returns/receive/till/item/", {"code": "5012345678900"})
    unknown = alice.get("/store/returns/receive/till/item/", {"code": "NOPE"})

    assert known.json() == {
        "code": "TEE-BLK-M",
        "name": "Tee black M",
        "barcode": "5012345678900",
    }
    assert unknown.status_code == 404 and "No item 'NOPE'" in unknown.json()["message"]


def test_the_till_item_lookup_is_for_a_store_and_knows_items_no_longer_sold(
    shop, alice, client
):
    shop["hoodie"].is_active = False  # no longer sold, but bought when it was
    shop["hoodie"].save(update_fields=["is_active"])

    retired = alice.get("/store/returns/receive/till/item/", {"code": "HOOD-GRE-L"})
    assert retired.status_code == 200 and retired.json()["name"] == "Hoodie green L"

    client.force_login(StaffFactory.at(username="nostore"))
    nowhere = client.get("/store/returns/receive/till/item/", {"code": "TEE-BLK-M"})
    assert nowhere.status_code == 403 and "store" in nowhere.json()["message"]
    assert "Tee black M" not in nowhere.content.decode()


def test_a_till_return_takes_an_item_no_longer_sold(shop, alice):
    ChannelFactory(code="pos-oxf", name="Oxford tills", kind="store_pos")
    shop["hoodie"].is_active = False
    shop["hoodie"].save(update_fields=["is_active"])
    form = {"till_receipt": "0042-1190", "sku-1": "HOOD-GRE-L", "quantity-1": "1",
            "reason-1": "changed_mind"}  # fmt: skip

    answer = alice.post("/store/returns/receive/till/", form)

    assert answer.status_code == 302
    assert Return.objects.get().lines.get().sku == shop["hoodie"]


@pytest.mark.parametrize("name", ["sku-\u00b2", "sku-\u0663", "sku-12345", "sku--1"])
def test_a_till_return_with_a_strange_row_name_is_a_page_not_a_500(shop, alice, name):
    ChannelFactory(code="pos-oxf", name="Oxford tills", kind="store_pos")

    answer = alice.post(
        "/store/returns/receive/till/", {"till_receipt": "0042-1190", name: "TEE-BLK-M"}
    )

    assert answer.status_code == 400 and not Return.objects.exists()
    assert "Scan or type at least one item." in answer.content.decode()


def test_a_returns_page_follows_what_colleagues_do(shop, alice):
    order = delivered_order(shop, lines=[(shop["tee"], 2)])
    line = order.lines.get()
    alice.post(
        f"/store/returns/receive/order/{order.pk}/",
        {f"quantity-{line.pk}": "2", f"reason-{line.pk}": "wrong_size"},
    )
    found = Return.objects.get()
    url = f"/store/returns/{found.pk}/"

    first = alice.get(url, **HTMX)
    text = first.content.decode()
    seen = text.split('"X-Seen": "')[1].split('"')[0]
    assert "autofocus" not in text  # a poll never moves the cursor
    assert "Waiting for inspection" in text and "user:alice" not in text
    assert alice.get(url, HTTP_X_SEEN=seen, **HTMX).status_code == 204

    from config.access import Actor
    from returns.services import return_line_grade

    return_line_grade(
        return_id=found.pk,
        line_id=found.lines.get().pk,
        grade="damaged",
        quantity=1,
        actor=Actor.of_user(shop["bob"]),
    )
    changed = alice.get(url, HTTP_X_SEEN=seen, **HTMX)
    assert changed.status_code == 200 and "Bob" in changed.content.decode()

    queue = alice.get(
        "/store/returns/", {"location": "LON-OXF"}, HTTP_HX_TARGET="queue", **HTMX
    )
    assert found.reference in queue.content.decode()
    seen = queue.content.decode().split('"X-Seen": "')[1].split('"')[0]
    again = alice.get(
        "/store/returns/",
        {"location": "LON-OXF"},
        HTTP_HX_TARGET="queue",
        HTTP_X_SEEN=seen,
        **HTMX,
    )
    assert again.status_code == 204


def test_a_refused_grade_keeps_what_was_typed_and_marks_the_field(shop, alice):
    order = delivered_order(shop)
    line = order.lines.get()
    alice.post(
        f"/store/returns/receive/order/{order.pk}/",
        {f"quantity-{line.pk}": "1", f"reason-{line.pk}": "wrong_size"},
    )
    found = Return.objects.get()
    return_line = found.lines.get()

    answer = alice.post(
        f"/store/returns/{found.pk}/grade/",
        {
            "line": return_line.pk,
            "grade": "resellable",
            "quantity": "1",
            "condition": "tags on",
        },
        **HTMX,
    ).content.decode()

    shelf = answer[answer.index(f'id="shelf_location-{return_line.pk}"') :].split(">")[
        0
    ]
    assert 'aria-invalid="true"' in shelf and "autofocus" in shelf
    assert 'value="tags on"' in answer and 'role="alert"' in answer
    nonsense = alice.post(
        f"/store/returns/{found.pk}/grade/",
        {"line": "9" * 40, "grade": "damaged", "quantity": "1"},
        **HTMX,
    )
    assert nonsense.status_code == 200
    assert "That number is too long" in nonsense.content.decode()
