"""A kit comes back: a camera kit (a body and two lenses) bought as one, returned as
one, received into quality control and graded part by part."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import Sku
from config.access import Actor
from config.errors import InvalidInput
from inventory.models import StockBalance, StockMovement
from inventory.services import balances_rebuild
from orders.models import Order
from orders.services import Customer as OrderCustomer
from orders.services import OrderLineInput, order_place, order_ship
from returns.models import Return, ReturnLine
from returns.services import (
    Purchase,
    ReturnLineInput,
    return_line_grade,
    return_receive_at_counter,
    return_receive_expected,
)
from tests.conftest import axe_clean, client_for, no_sideways_scroll, scan, sign_in
from tests.factories import (
    ApiTokenFactory,
    ChannelFactory,
    SkuFactory,
    balance_of,
    delivered_order,
    kit,
    stock,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def camera(shop):
    """CAM-KIT: one BODY and two LENS, sold as one; the shelves hold the parts."""
    shop["body"] = SkuFactory(code="BODY-X", name="Camera body X", barcode="400100")
    shop["lens"] = SkuFactory(code="LENS-50", name="Lens 50mm", barcode="400200")
    shop["camera"] = kit(
        "CAM-KIT", (shop["body"], 1), (shop["lens"], 2), name="Camera kit"
    )
    Sku.objects.filter(pk=shop["camera"].pk).update(barcode="400900")
    shop["camera"].refresh_from_db()
    return shop["camera"]


def kit_order(shop, reference="WEB-7001", *, kit_lines=(1,), plain=()):
    """A web order of camera kits shipped to the customer: one kit line per number
    in ``kit_lines`` (that many kits each; the first from Camden, the next from
    Oxford Street), and ``plain`` (sku, units) sold alone besides, from Camden."""
    places = [shop["camden"], shop["oxford"]]
    wanted = [
        OrderLineInput(sku=shop["camera"], quantity=kits, location=place)
        for kits, place in zip(kit_lines, places, strict=False)
    ] + [
        OrderLineInput(sku=sku, quantity=units, location=shop["camden"])
        for sku, units in plain
    ]
    for line in wanted:
        is_kit = line.sku == shop["camera"]
        for part, per in (
            [(shop["body"], 1), (shop["lens"], 2)] if is_kit else [(line.sku, 1)]
        ):
            stock(part, line.location, line.quantity * per)
    actor = Actor(name="token:web-shop", source="web")
    order, _ = order_place(
        channel=shop["web"],
        reference=reference,
        method="ship",
        customer=OrderCustomer(name="Ada Byron", email="ada@example.com"),
        actor=actor,
        lines=wanted,
    )
    order_ship(order_id=order.pk, lines=None, actor=actor)
    return Order.objects.get(pk=order.pk)


def bring_back(shop, order, *lines, by="alice"):
    """The customer at the Oxford Street counter with ``lines`` (sku, units)."""
    return return_receive_at_counter(
        purchase=Purchase(channel=order.channel, order=order),
        location=shop["oxford"],
        lines=[
            ReturnLineInput(sku=sku, quantity=quantity, reason="defective")
            for sku, quantity in lines
        ],
        actor=Actor.of_user(shop[by]),
    )


def grade(found, line, grade, quantity=1, **extra):
    return return_line_grade(
        return_id=found.pk,
        line_id=line.pk,
        grade=grade,
        quantity=quantity,
        actor=Actor(name="user:alice"),
        **extra,
    )


def stock_written() -> tuple[int, int, int]:
    return (
        Return.objects.count(),
        ReturnLine.objects.count(),
        StockMovement.objects.count(),
    )


def test_a_camera_kit_comes_back_and_each_part_is_graded_on_its_own(shop, camera):
    """One lens arrived cracked: it is kept off sale, the body and the other lens
    go back on the shelf."""
    order = kit_order(shop)
    oxford, body, lens = shop["oxford"], shop["body"], shop["lens"]

    found = bring_back(shop, order, (camera, 1))

    body_line, lens_line = found.lines.order_by("sku__code")
    assert [(x.sku, x.kit, x.quantity) for x in (body_line, lens_line)] == [
        (body, camera, 1),
        (lens, camera, 2),
    ]
    kit_line = order.kit_lines.get()
    assert body_line.order_line == kit_line.components.get(sku=body)
    assert lens_line.order_line == kit_line.components.get(sku=lens)
    for part, units in ((body, 1), (lens, 2)):
        balance = balance_of(part, oxford)
        assert (balance.on_hand, balance.quality_control) == (units, units)
        assert balance.available == 0
    assert not StockBalance.objects.filter(sku=camera).exists()

    grade(found, body_line, "resellable", shelf_location="Cameras 1")
    grade(found, lens_line, "damaged", condition="Front element cracked")
    grade(found, lens_line, "resellable", shelf_location="Cameras 2")

    found.refresh_from_db()
    assert found.status == Return.Status.GRADED
    assert balance_of(body, oxford).available == 1
    lens_here = balance_of(lens, oxford)
    assert (lens_here.on_hand, lens_here.damaged, lens_here.available) == (2, 1, 1)
    assert lens_here.quality_control == 0
    assert balances_rebuild(repair=False) == []


def test_the_same_kit_cannot_come_back_twice(shop, camera):
    order = kit_order(shop)
    bring_back(shop, order, (camera, 1))
    before = stock_written()

    with pytest.raises(InvalidInput) as refused:
        bring_back(shop, order, (camera, 1), by="bob")

    assert refused.value.field_errors["lines"][0]["quantity"] == [
        "Only 0 of CAM-KIT can come back: 1 bought on order WEB-7001, the rest "
        "already returned or announced."
    ]
    assert stock_written() == before
    assert balance_of(shop["lens"], shop["oxford"]).quality_control == 2


def test_a_kit_short_of_a_lens_already_returned_does_not_come_back_whole(shop, camera):
    """One lens of the kit came back alone last week: the kit is no longer whole,
    and the lens left comes back by its own code."""
    order = kit_order(shop)
    alone = bring_back(shop, order, (shop["lens"], 1))
    # A part of a kit brought back alone still says which kit it was sold in.
    assert alone.lines.get().kit == camera
    before = stock_written()

    with pytest.raises(InvalidInput) as refused:
        bring_back(shop, order, (camera, 1))

    assert "Only 0 of CAM-KIT can come back" in str(refused.value.field_errors)
    assert stock_written() == before
    bring_back(shop, order, (shop["lens"], 1), (shop["body"], 1))
    assert balance_of(shop["lens"], shop["oxford"]).quality_control == 2


def test_a_lens_brought_back_alone_comes_off_the_lens_sold_alone_first(shop, camera):
    order = kit_order(shop, plain=[(shop["lens"], 1)])

    alone = bring_back(shop, order, (shop["lens"], 1))
    whole = bring_back(shop, order, (camera, 1))

    line = alone.lines.get()
    assert line.order_line.kit_line is None and line.kit is None
    assert {x.sku.code: x.quantity for x in whole.lines.all()} == {
        "BODY-X": 1,
        "LENS-50": 2,
    }


def test_kits_come_off_the_orders_kit_lines_in_order(shop, camera):
    """The order sold the kit twice over (two kit lines): three kits come back,
    two off the first and one off the second."""
    order = kit_order(shop, kit_lines=(2, 1))
    first, second = order.kit_lines.order_by("id")

    found = bring_back(shop, order, (camera, 3))

    taken = {
        (x.order_line.kit_line_id, x.sku.code): x.quantity for x in found.lines.all()
    }
    assert taken == {
        (first.pk, "BODY-X"): 2,
        (first.pk, "LENS-50"): 4,
        (second.pk, "BODY-X"): 1,
        (second.pk, "LENS-50"): 2,
    }
    with pytest.raises(InvalidInput):
        bring_back(shop, order, (camera, 1))


def test_a_kit_the_order_did_not_sell_as_a_kit_is_refused(shop, camera):
    """The order bought a body and two lenses one by one: they come back by their
    own codes, not as the kit."""
    order = delivered_order(
        shop, "WEB-7002", lines=[(shop["body"], 1), (shop["lens"], 2)]
    )
    before = stock_written()

    with pytest.raises(InvalidInput) as refused:
        bring_back(shop, order, (camera, 1))

    assert refused.value.field_errors["lines"][0]["quantity"] == [
        "CAM-KIT was not sold as a kit on order WEB-7002: take its items back one "
        "by one."
    ]
    assert stock_written() == before


def test_a_kit_bought_at_the_till_comes_back_by_its_parts(shop, camera):
    """A walk-in with a till receipt: the till sends no receipts, so the kit comes
    back as it is defined now."""
    till = ChannelFactory(code="pos-oxf", kind="store_pos")

    found = return_receive_at_counter(
        purchase=Purchase(channel=till, till_receipt="0042-1187"),
        location=shop["oxford"],
        lines=[ReturnLineInput(sku=camera, quantity=2, reason="changed_mind")],
        actor=Actor.of_user(shop["alice"]),
    )

    lines = {x.sku.code: (x.quantity, x.kit, x.order_line) for x in found.lines.all()}
    assert lines == {"BODY-X": (2, camera, None), "LENS-50": (4, camera, None)}
    assert balance_of(shop["lens"], shop["oxford"]).quality_control == 4
    assert StockMovement.objects.filter(sku=camera).count() == 0


# ---------------------------------------------------------------- announced (API)


@pytest.fixture
def web_shop(shop):
    return client_for(ApiTokenFactory.issue(name="web-shop", channel_code="web")[1])


def announcement(sku="CAM-KIT", quantity=1, order="WEB-7001", reference="RMA-88"):
    return {
        "reference": reference,
        "order": order,
        "location": "LON-OXF",
        "lines": [{"sku": sku, "quantity": quantity, "reason": "defective"}],
    }


def test_a_kit_announced_online_is_expected_and_received_by_its_parts(
    shop, camera, web_shop
):
    order = kit_order(shop)

    answer = web_shop.post("/api/v1/returns/", announcement(), format="json")

    assert answer.status_code == 201, answer.json()
    lines = answer.json()["lines"]
    assert [(x["sku"], x["kit"], x["expected_quantity"]) for x in lines] == [
        ("BODY-X", "CAM-KIT", 1),
        ("LENS-50", "CAM-KIT", 2),
    ]
    components = {x.sku.code: x.pk for x in order.lines.all()}
    assert [x["order_line"] for x in lines] == [
        components["BODY-X"],
        components["LENS-50"],
    ]
    oxford = shop["oxford"]
    assert balance_of(shop["body"], oxford).incoming == 1
    assert balance_of(shop["lens"], oxford).incoming == 2
    assert not StockBalance.objects.filter(sku=camera).exists()

    found = Return.objects.get()
    body_line, lens_line = found.lines.order_by("sku__code")
    return_receive_expected(
        return_id=found.pk,
        quantities={body_line.pk: 1, lens_line.pk: 2},
        actor=Actor.of_user(shop["alice"]),
    )
    lens = balance_of(shop["lens"], oxford)
    assert (lens.incoming, lens.quality_control, lens.available) == (0, 2, 0)
    read = web_shop.get(f"/api/v1/returns/{found.pk}/").json()
    assert {x["sku"]: x["kit"] for x in read["lines"]} == {
        "BODY-X": "CAM-KIT",
        "LENS-50": "CAM-KIT",
    }

    again = web_shop.post(
        "/api/v1/returns/", announcement(reference="RMA-89"), format="json"
    )
    assert again.status_code == 400
    assert "Only 0 of CAM-KIT can come back" in str(again.json()["lines"])
    assert Return.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"sku": "CAM-NOPE"}, "Unknown SKU 'CAM-NOPE'."),
        ({"quantity": 2}, "Only 1 of CAM-KIT can come back"),
        ({"quantity": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_kit_announcements_are_400s_that_change_nothing(
    shop, camera, web_shop, change, said
):
    kit_order(shop)
    before = stock_written()

    answer = web_shop.post("/api/v1/returns/", announcement(**change), format="json")

    assert answer.status_code == 400, answer.json()
    assert said in str(answer.json()["lines"])
    assert stock_written() == before


# ---------------------------------------------------------------- the counter


@pytest.fixture
def alice(client, shop):
    client.force_login(shop["alice"])
    return client


def test_the_counter_finds_a_kit_order_by_the_kits_barcode(shop, camera, alice):
    order = kit_order(shop)

    page = alice.get("/store/returns/", {"q": "400900"}, **HTMX).content.decode()

    assert f"/store/returns/receive/order/{order.pk}/" in page


def test_the_counter_shows_a_kits_items_under_it_and_receives_them(shop, camera, alice):
    order = kit_order(shop, plain=[(shop["lens"], 1)])
    kit_line = order.kit_lines.get()
    body = kit_line.components.get(sku=shop["body"])
    lens = kit_line.components.get(sku=shop["lens"])

    page = alice.get(f"/store/returns/receive/order/{order.pk}/").content.decode()

    assert 'data-kit-codes="CAM-KIT 400900"' in page
    assert "{#" not in page  # no template comment shown as text
    assert "From CAM-KIT, 2 per kit" in page
    assert 'aria-label="Units of LENS-50 from CAM-KIT returning"' in page
    assert 'aria-label="Units of LENS-50 returning"' in page  # the one sold alone
    # The lens sold alone first, then the kit's items under the kit.
    assert page.index("Units of LENS-50 returning") < page.index("CAM-KIT</strong>")

    answer = alice.post(
        f"/store/returns/receive/order/{order.pk}/",
        {
            f"quantity-{body.pk}": "1",
            f"reason-{body.pk}": "defective",
            f"quantity-{lens.pk}": "2",
            f"reason-{lens.pk}": "defective",
        },
    )

    assert answer.status_code == 302
    found = Return.objects.get()
    assert {x.sku.code: (x.quantity, x.kit) for x in found.lines.all()} == {
        "BODY-X": (1, camera),
        "LENS-50": (2, camera),
    }
    shown = alice.get(answer["Location"]).content.decode()
    assert shown.count("from CAM-KIT</span>") == 2


def test_the_till_form_says_a_scanned_kit_comes_back_as_its_items(shop, camera, alice):
    ChannelFactory(code="pos-oxf", kind="store_pos")

    answer = alice.get("/store/returns/receive/till/item/", {"code": "400900"})

    assert answer.json()["parts"] == "1 × BODY-X, 2 × LENS-50"
    plain = alice.get("/store/returns/receive/till/item/", {"code": "LENS-50"})
    assert "parts" not in plain.json()


# ---------------------------------------------------------------- in a browser


@pytest.mark.django_db(transaction=True)
def test_a_kit_comes_back_by_scans_and_keys_and_is_graded_part_by_part(
    shop, camera, tablet
):
    """The customer brings back the camera kit with a cracked lens. The kit's
    barcode finds the order and counts the whole kit on its items; a second scan of
    it is refused (one kit was bought); the body and one lens go back on the shelf,
    the cracked lens is written off as damaged. Keys and scans only."""
    order = kit_order(shop, "WEB-7101")
    page = tablet
    sign_in(page, "alice")
    page.goto("/store/returns/")
    expect(page.get_by_label("Find the purchase")).to_be_focused()
    scan(page, "400900")  # the kit's barcode, off the box
    found = page.locator("#found").get_by_role("link", name=re.compile("WEB-7101"))
    expect(found).to_be_visible()
    page.keyboard.press("Tab")  # Find
    page.keyboard.press("Tab")  # the purchase found
    expect(found).to_be_focused()
    page.keyboard.press("Enter")

    field = page.get_by_label("Scan an item coming back")
    expect(field).to_be_focused()
    kit_group = page.get_by_role("group", name=re.compile("CAM-KIT"))
    expect(kit_group).to_contain_text("1 sold as a kit")
    scan(page, "400900")
    said = page.locator("#scan-said")
    expect(said).to_have_text(
        "CAM-KIT: one kit, its items returning (BODY-X 1, LENS-50 2). "
        "Say why on each line."
    )
    body = page.get_by_label("Units of BODY-X from CAM-KIT returning")
    lens = page.get_by_label("Units of LENS-50 from CAM-KIT returning")
    expect(body).to_have_value("1")
    expect(lens).to_have_value("2")
    scan(page, "400900")  # the same kit again: only one was bought
    expect(said).to_have_text(
        "No whole CAM-KIT left to come back: scan its items one by one."
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(lens).to_have_value("2")
    page.keyboard.press("Tab")  # the body's units
    expect(body).to_be_focused()
    page.keyboard.press("Tab")  # its reason
    page.keyboard.type("def")
    page.keyboard.press("Tab")  # its other reason
    page.keyboard.press("Tab")  # the lenses' units
    page.keyboard.press("Tab")  # their reason
    page.keyboard.type("def")
    expect(
        page.get_by_label("Reason for LENS-50 from CAM-KIT", exact=True)
    ).to_have_value("defective")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("kit-scanned")
    page.keyboard.press("Control+Enter")

    expect(page.locator("#return h1")).to_contain_text("Waiting for inspection")
    expect(page.locator("#messages")).to_contain_text(
        "3 units received into quality control"
    )
    returned = Return.objects.get()
    body_line, lens_line = returned.lines.order_by("sku__code")
    expect(page.locator(f"#line-{lens_line.pk}")).to_contain_text("from CAM-KIT")
    expect(page.locator(f"#grade-{body_line.pk}")).to_be_focused()
    axe_clean(page)
    page.shot("received")

    page.keyboard.press("Space")  # the body: resellable
    page.keyboard.press("Tab")  # units
    page.keyboard.press("Tab")  # shelf or bin: its label scanned
    scan(page, "CAMERAS-1")
    expect(page.locator("#return [data-said]")).to_contain_text(
        "Graded 1 × BODY-X: Resellable: back on the shelf, on CAMERAS-1."
    )
    expect(page.locator(f"#grade-{lens_line.pk}")).to_be_focused()
    page.keyboard.press("ArrowDown")  # the cracked lens: damaged
    page.keyboard.press("Tab")  # units: 1
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-text")).to_contain_text(
        "Write off 1 × LENS-50 as damaged?"
    )
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(f"#line-{lens_line.pk}")).to_contain_text("1 to grade")
    expect(page.locator(f"#grade-{lens_line.pk}")).to_be_focused()
    page.keyboard.press("Space")  # the sound lens: resellable
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    scan(page, "CAMERAS-2")

    expect(page.locator(".task-head")).to_contain_text("Graded, to close")
    page.shot("graded")
    oxford = shop["oxford"]
    assert balance_of(shop["body"], oxford).available == 1
    lens_here = balance_of(shop["lens"], oxford)
    assert (lens_here.available, lens_here.damaged, lens_here.on_hand) == (1, 1, 2)
    assert Order.objects.get(pk=order.pk).returns.count() == 1


def test_the_returns_list_finds_a_kits_return_by_the_kit_or_a_part(
    shop, camera, web_shop
):
    kit_order(shop)
    web_shop.post("/api/v1/returns/", announcement(), format="json")

    for code in ("CAM-KIT", "LENS-50"):
        listed = web_shop.get("/api/v1/returns/", {"sku": code}).json()["results"]
        assert [x["reference"] for x in listed] == ["RMA-88"], code
    assert (
        web_shop.get("/api/v1/returns/", {"sku": "TEE-BLK-M"}).json()["results"] == []
    )


def test_a_kit_comes_back_as_it_was_sold_whatever_it_is_made_of_now(shop, camera):
    """The camera kit now ships with one lens; this customer's had two."""
    order = kit_order(shop)
    kit("CAM-KIT", (shop["body"], 1), (shop["lens"], 1))

    found = bring_back(shop, order, (camera, 1))

    assert {x.sku.code: x.quantity for x in found.lines.all()} == {
        "BODY-X": 1,
        "LENS-50": 2,
    }
