"""Customer service finds an order by its number, the customer's email or phone, and
reads its whole story; a store's staff only the orders that touch their stores."""

import re

import pytest
from django.urls import reverse

from config.errors import InvalidInput, NotFound
from support import selectors
from support.steps import Names
from tests.factories import StaffFactory, delivered_order, stock

pytestmark = pytest.mark.django_db


def found(shop, search, who="maria"):
    return [
        o.reference
        for o in selectors.orders_found(user=shop[who], search=search).orders
    ]


def test_an_order_is_found_by_its_number_in_any_case_and_spacing(shop, ada_order):
    assert found(shop, "WEB-7001") == ["WEB-7001"]
    assert found(shop, "  web-7001 ") == ["WEB-7001"]
    assert found(shop, "#WEB-7001") == ["WEB-7001"]


def test_an_order_is_found_by_the_customers_email_in_any_case(shop, ada_order):
    assert found(shop, "ada.byron@example.com") == ["WEB-7001"]
    assert found(shop, "ADA.BYRON@EXAMPLE.COM") == ["WEB-7001"]
    assert found(shop, "ada@example.com") == []


@pytest.mark.parametrize(
    "typed",
    ["07700 900123", "07700900123", "+44 7700 900123", "+447700900123",
     "0044 7700-900-123", "+44 (0)7700 900123"],
)  # fmt: skip
def test_an_order_is_found_by_the_customers_phone_written_another_way(
    shop, ada_order, typed
):
    assert found(shop, typed) == ["WEB-7001"]


def test_a_phone_number_matches_only_the_same_number(shop, ada_order):
    assert found(shop, "07700 900124") == []
    assert selectors.phone_key("WEB-7001") == ""
    assert selectors.phone_key("12345") == ""


def test_several_orders_of_one_customer_are_listed_newest_first(shop, ada_order):
    delivered_order(shop, reference="WEB-7002", email="ada.byron@example.com")
    result = selectors.orders_found(user=shop["maria"], search="Ada.Byron@example.com")
    assert [o.reference for o in result.orders] == ["WEB-7002", "WEB-7001"]
    assert [o.status_words for o in result.orders] == ["Shipped", "Collected"]


@pytest.mark.parametrize("typed", ["", "   ", "x" * 201, "WEB\x00-1"])
def test_a_search_that_cannot_be_run_is_refused_in_words(shop, typed):
    with pytest.raises(InvalidInput) as refused:
        selectors.orders_found(user=shop["maria"], search=typed)
    assert "order number" in str(refused.value.field_errors["q"])


def test_store_staff_find_only_orders_that_touch_their_stores(shop, ada_order):
    assert found(shop, "WEB-7001", who="alice") == ["WEB-7001"]
    assert found(shop, "WEB-7001", who="carol") == []  # Camden's
    with pytest.raises(NotFound):
        selectors.order_for_staff(user=shop["carol"], order_id=ada_order.pk)
    assert selectors.order_for_staff(user=shop["maria"], order_id=ada_order.pk)
    with pytest.raises(NotFound):
        selectors.order_for_staff(user=shop["maria"], order_id=2**70)


def test_a_return_at_their_store_brings_the_order_into_reach(shop):
    from config.access import Actor
    from returns.services import Purchase, ReturnLineInput, return_receive_at_counter

    order = delivered_order(shop, reference="WEB-3001", source=shop["oxford"])
    assert found(shop, "WEB-3001", who="carol") == []
    return_receive_at_counter(
        purchase=Purchase(channel=shop["web"], order=order),
        location=shop["camden"],
        lines=[ReturnLineInput(sku=shop["tee"], quantity=1, reason="wrong_size")],
        actor=Actor.of_user(shop["carol"]),
    )
    assert found(shop, "WEB-3001", who="carol") == ["WEB-3001"]


def test_the_story_tells_every_kind_of_step_in_time_order(shop, ada_order):
    story = selectors.order_story(order=ada_order, user=shop["maria"])
    tags = [step.tag for step in story.steps]
    for tag in ("Placed", "Routed", "Set aside", "Picking", "Picked", "Short",
                "Decided", "Added", "Cancelled", "Ready", "Collected", "Message",
                "Return", "Graded", "Exception"):  # fmt: skip
        assert tag in tags, f"no {tag} step in {tags}"
    assert tags[0] == "Placed"
    moments = [step.at for step in story.steps]
    assert moments == sorted(moments)
    said = {step.tag: step for step in reversed(story.steps)}
    assert "Oxford Street" in said["Routed"].detail  # the place, not its code
    assert (
        said["Short"].words == "Short at picking: 1 × Tee black M (TEE-BLK-M) not found"
    )
    assert "Empty hook" in said["Short"].detail
    assert (
        "Polo blue M" in said["Decided"].detail and "accepted" in said["Decided"].detail
    )
    assert said["Cancelled"].words == "Cancelled 1 × Tee black M (TEE-BLK-M)"
    assert said["Cancelled"].detail == "Why: Tee black M replaced by Polo blue M"
    assert "On hold at H-3" in said["Ready"].detail
    assert said["Collected"].actor == "user:bob"
    assert "resellable" in said["Graded"].words and "A1" in said["Graded"].detail
    assert "item not found at picking" in said["Exception"].words
    assert said["Exception"].link == reverse(
        "reconciliation:exception", args=[story.cases[0].pk]
    )
    assert story.task is not None and len(story.returns) == 1
    assert story.status_words == "Collected"
    assert [line.returned for line in story.lines] == [0, 0, 1]


def test_store_staff_read_the_story_without_cases_they_may_not_see(shop, ada_order):
    manager = selectors.order_story(order=ada_order, user=shop["maria"])
    alice = selectors.order_story(order=ada_order, user=shop["alice"])
    assert len(alice.cases) == len(manager.cases) == 1  # Oxford's own case
    newcomer = StaffFactory.at(shop["camden"], username="dan")
    assert selectors.order_story(order=ada_order, user=newcomer).cases == []


# ------------------------------------------------------------- the screens


def signed_in(client, user):
    client.force_login(user)
    return client


def test_one_match_opens_the_story(client, shop, ada_order):
    response = signed_in(client, shop["alice"]).get(
        reverse("support:find"), {"q": "ada.byron@EXAMPLE.com"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("support:order", args=[ada_order.pk])
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Order WEB-7001" in html and "Collected" in html
    assert reverse("pickup:task", args=[ada_order.pickup_task.pk]) in html
    assert "user:" not in html and "token:" not in html


def test_no_match_says_so_and_keeps_the_search(client, shop, ada_order):
    page = signed_in(client, shop["alice"]).get(reverse("support:find"), {"q": "WEB-9"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "No order matches “WEB-9”" in html and 'value="WEB-9"' in html


def test_an_empty_search_is_a_readable_message_on_the_field(client, shop):
    page = signed_in(client, shop["alice"]).get(reverse("support:find"), {"q": " "})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'aria-invalid="true"' in html and "Type an order number" in html


def test_an_order_out_of_reach_is_not_found(client, shop, ada_order):
    page = signed_in(client, shop["carol"]).get(
        reverse("support:order", args=[ada_order.pk])
    )
    assert page.status_code == 404
    assert (
        client.get("/store/support/orders/99999999999999999999999/").status_code == 404
    )


def test_support_is_for_staff_signed_in(client, shop):
    response = client.get(reverse("support:find"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_shipped_order_and_a_cancelled_one_tell_their_own_story(shop):
    from config.access import Actor
    from orders import services as orders

    shipped = delivered_order(shop, reference="WEB-3001")
    story = selectors.order_story(order=shipped, user=shop["maria"])
    assert [step.tag for step in story.steps] == [
        "Placed", "Routed", "Set aside", "Shipped",
    ]  # fmt: skip
    assert story.status_words == "Shipped" and story.task is None

    stock(shop["tee"], shop["camden"], 1)
    placed = orders.order_place(
        channel=shop["web"],
        reference="WEB-3003",
        method="ship",
        customer=orders.Customer(name="Ada Byron"),
        actor=Actor(name="token:web-shop", source="web"),
        lines=[
            orders.OrderLineInput(sku=shop["tee"], quantity=1, location=shop["camden"])
        ],
    )[0]
    orders.order_cancel(
        order_id=placed.pk, lines=None, reason="Customer changed their mind",
        actor=Actor.of_user(shop["maria"]),
    )  # fmt: skip
    placed.refresh_from_db()
    story = selectors.order_story(order=placed, user=shop["maria"])
    last = story.steps[-1]
    assert (last.tag, last.actor) == ("Cancelled", "user:maria")
    assert last.words.startswith("Order cancelled")
    assert last.detail == "Why: Customer changed their mind"
    assert story.status_words == "Cancelled"


def test_a_phone_search_reads_the_phones_of_orders_in_reach_only(shop, ada_order):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert found(shop, "07700 900123", who="carol") == []  # Camden's
    (search,) = [q["sql"] for q in queries if "REPLACE" in q["sql"].upper()]
    # The digits are worked out on the outer query, which is limited to the orders
    # Carol may see, not in a subquery over every order with a phone.
    readers = re.findall(r'([\w"]+)\."customer_phone"', search)
    assert readers and set(readers) == {'"orders_order"'}, search
    assert found(shop, "07700 900123", who="alice") == ["WEB-7001"]


def test_a_name_with_a_backslash_is_told_as_written(shop, ada_order):
    from catalog.models import Sku

    Sku.objects.filter(pk=shop["tee"].pk).update(name="Bag 1\\2")
    names = Names(ada_order)
    assert names.in_words("Nothing to name here") == "Nothing to name here"
    assert names.in_words("TEE-BLK-M not found") == "Bag 1\\2 not found"
    story = selectors.order_story(order=ada_order, user=shop["maria"])
    assert any("Bag 1\\2" in step.words for step in story.steps)


def test_a_return_on_the_story_is_in_the_returns_screens_words(client, shop, ada_order):
    from returns.templatetags.returns_words import state

    back = ada_order.returns.get()
    html = (
        signed_in(client, shop["alice"])
        .get(reverse("support:order", args=[ada_order.pk]))
        .content.decode()
    )
    assert f"{state(back.status)} · Oxford Street" in html
    assert back.get_status_display() not in html
