"""The manager's morning through the screens and the API: the queue filtered by
location, kind, age and assignee; a case assigned, commented on and resolved; a count
done blind by scan and reviewed; accuracy on a page; store staff kept to their store."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from config.access import Actor
from reconciliation.models import ExceptionCase
from reconciliation.services import Raised, exception_raise
from reconciliation.services.counts import count_task_start
from tests.factories import ApiTokenFactory, ChannelFactory, balance_of, stock

HTMX = {"HTTP_HX_REQUEST": "true"}


def raise_case(shop, *, kind="item_not_found", key="k1", where="oxford", hours_ago=0):
    case = exception_raise(
        raised=Raised(
            kind=kind,
            key=key,
            title=f"{kind} {key} at {shop[where].code}",
            sku=shop["tee"],
            location=shop[where],
        )
    )
    if hours_ago:
        ExceptionCase.objects.filter(pk=case.pk).update(
            first_raised_at=timezone.now() - timedelta(hours=hours_ago)
        )
    return case


@pytest.fixture
def morning(shop):
    """Three open cases: a fresh one at Oxford, an overdue one at Oxford, and one at
    Camden."""
    return {
        "fresh": raise_case(shop, key="fresh"),
        "late": raise_case(shop, kind="oversell_conflict", key="late", hours_ago=30),
        "camden": raise_case(shop, key="camden", where="camden"),
    }


def signed_in(client, user):
    client.force_login(user)
    return client


def counted_short_twice(shop, client):
    """Alice counts 6 tees where the record says 10, twice (the recount agrees): the
    count waits for a manager's review."""
    stock(shop["tee"], shop["oxford"], 10)
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M"],
        actor=Actor.of_user(shop["maria"]),
    )
    signed_in(client, shop["alice"])
    line = task.lines.get()
    for _ in range(2):
        client.post(f"/store/counts/{task.pk}/set/", {"line": line.pk, "quantity": 6})
        client.post(f"/store/counts/{task.pk}/submit/")
    return task, line


def test_the_manager_sees_every_case_and_filters_them(shop, client, morning):
    signed_in(client, shop["maria"])
    page = client.get("/store/exceptions/").content.decode()
    for case in morning.values():
        assert case.title in page
    assert "Overdue" in page and "30 hours" in page and "target 4 hours" in page

    only = client.get(
        "/store/exceptions/",
        {"location": "LON-OXF", "age": "overdue"},
        HTTP_HX_TARGET="exception-list",
        **HTMX,
    ).content.decode()
    assert morning["late"].title in only
    assert morning["fresh"].title not in only and morning["camden"].title not in only
    assert 'id="exception-list"' in only and "<html" not in only

    kind = client.get("/store/exceptions/", {"kind": "oversell_conflict"}).content
    assert morning["fresh"].title.encode() not in kind


def test_store_staff_see_their_store_only(shop, client, morning):
    signed_in(client, shop["carol"])  # Camden
    page = client.get("/store/exceptions/").content.decode()
    assert morning["camden"].title in page and morning["fresh"].title not in page
    assert client.get(f"/store/exceptions/{morning['fresh'].pk}/").status_code == 404
    answer = client.post(
        f"/store/exceptions/{morning['fresh'].pk}/resolve/", {"resolution": "no_action"}
    )
    assert answer.status_code == 404
    morning["fresh"].refresh_from_db()
    assert morning["fresh"].status == "open"


def test_assign_comment_and_resolve_on_the_case_screen(shop, client, morning):
    signed_in(client, shop["alice"])
    case = morning["fresh"]
    url = f"/store/exceptions/{case.pk}/"
    assert "Resolve" in client.get(url).content.decode()

    client.post(url + "assign/", {"assignee": shop["alice"].pk}, **HTMX)
    mine = client.get("/store/exceptions/", {"assignee": "me"}).content.decode()
    assert case.title in mine and morning["late"].title not in mine

    panel = client.post(url + "comment/", {"comment": "Not on the shelf"}, **HTMX)
    assert "Not on the shelf" in panel.content.decode()
    refused = client.post(url + "resolve/", {"resolution": "other"}, **HTMX)
    assert "Say what was done." in refused.content.decode()
    client.post(
        url + "resolve/", {"resolution": "stock_found", "note": "In the back"}, **HTMX
    )
    case.refresh_from_db()
    assert (case.status, case.resolution, case.assignee) == (
        "resolved",
        "stock_found",
        shop["alice"],
    )


def test_a_manager_adjusts_from_the_screen_and_bad_numbers_are_messages(
    shop, client, morning
):
    stock(shop["tee"], shop["oxford"], 3)
    signed_in(client, shop["maria"])
    url = f"/store/exceptions/{morning['late'].pk}/resolve/"
    typo = client.post(url, {"resolution": "stock_adjusted", "adjustment": "two"})
    assert typo.status_code == 302
    assert (
        "Enter a whole number."
        in client.get(f"/store/exceptions/{morning['late'].pk}/").content.decode()
    )
    client.post(url, {"resolution": "stock_adjusted", "adjustment": "-2", "note": "x"})
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 1


def test_the_api_lists_with_the_same_filters(shop, morning):
    api = APIClient()
    _, token = ApiTokenFactory.issue(name="ops tooling")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    every = api.get("/api/v1/exceptions/").json()
    assert every["count"] == 3
    late = api.get("/api/v1/exceptions/", {"age": "overdue"}).json()["results"]
    assert [case["key"] for case in late] == ["late"]
    assert late[0]["overdue"] is True and late[0]["target_hours"] == 4
    camden = api.get("/api/v1/exceptions/", {"location": "LON-CAM"}).json()
    assert camden["results"][0]["location"] == "LON-CAM"
    nobody = api.get("/api/v1/exceptions/", {"assignee": "nobody"}).json()
    assert nobody["count"] == 3
    one = api.get(f"/api/v1/exceptions/{morning['fresh'].pk}/").json()
    assert one["events"][0]["kind"] == "raised"

    bad = api.get("/api/v1/exceptions/", {"kind": "gremlins", "location": "NOWHERE"})
    assert bad.status_code == 400
    assert set(bad.json()) >= {"kind", "location"}


def test_a_channel_bound_token_cannot_read_the_queue(shop, morning):
    ChannelFactory(code="marketplace", kind="marketplace")
    api = APIClient()
    _, token = ApiTokenFactory.issue(name="mp", channel_code="marketplace")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/exceptions/").status_code == 403


def test_the_count_screen_never_shows_the_system_figure(shop, client):
    stock(shop["tee"], shop["oxford"], 4321)
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M"],
        actor=Actor.of_user(shop["maria"]),
    )
    signed_in(client, shop["alice"])
    url = f"/store/counts/{task.pk}/"
    page = client.get(url).content.decode()
    # What a person reads: the text, not the CSRF token or the URLs, whose random
    # letters and digits may hold any number.
    text = re.sub(r"<[^>]*>", " ", page)
    assert "TEE-BLK-M" in text and not re.search(r"\b4,?321\b", text)

    scanned = client.post(url + "scan/", {"code": "5012345678900"}, **HTMX)
    assert "TEE-BLK-M: 1 counted." in scanned.content.decode()
    unknown = client.post(url + "scan/", {"code": "999"}, **HTMX).content.decode()
    assert "999 is not on this count." in unknown
    line = task.lines.get()
    client.post(url + "set/", {"line": line.pk, "quantity": "4321"}, **HTMX)
    done = client.post(url + "submit/", follow=True).content.decode()
    assert "Count done" in done
    assert client.get(f"/store/counts/{task.pk}/review/").status_code == 404  # staff


def test_the_manager_reviews_a_variance_and_approves_it(shop, client):
    task, line = counted_short_twice(shop, client)
    signed_in(client, shop["maria"])
    review = client.get(f"/store/counts/{task.pk}/review/").content.decode()
    assert "Approve: post the count" in review and "-4" in review
    # Approving posts to the ledger: the page asks first, with the figure and place.
    assert (
        'data-confirm="Post the count of TEE-BLK-M at Oxford Street: -4 to the '
        'ledger (6 counted, the records said 10)?"'
    ) in review
    client.post(
        f"/store/counts/{task.pk}/decide/", {"line": line.pk, "decision": "approve"}
    )
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 6
    assert "100.0 %" not in client.get("/store/accuracy/").content.decode()
    answer = client.get("/store/accuracy/")
    page = answer.content.decode()
    assert "0.0 %" in page and 'data-chart-days="accuracy-days"' in page
    # The chart is drawn in the browser from the points alone.
    assert answer.context["chart_days"] == [
        {"day": timezone.localdate(), "percent": 0.0}
    ]


def test_staff_cannot_start_a_count_and_are_told(shop, client):
    signed_in(client, shop["alice"])
    page = client.post(
        "/store/counts/start/", {"sku_codes": "TEE-BLK-M"}, follow=True
    ).content.decode()
    assert "Only a manager may start a count." in page


def test_an_impossible_period_on_the_accuracy_page_is_a_message(shop, client):
    signed_in(client, shop["maria"])
    page = client.get(
        "/store/accuracy/", {"since": "2026-05-01", "until": "2026-04-01"}
    ).content.decode()
    assert "The period ends before it starts." in page


def test_a_nul_character_anywhere_is_a_400_not_a_500(shop, client, morning):
    signed_in(client, shop["maria"])
    assert client.get("/store/exceptions/", {"assignee": "\x00"}).status_code == 400
    answer = client.post(
        f"/store/exceptions/{morning['fresh'].pk}/comment/", {"comment": "a\x00b"}
    )
    assert answer.status_code == 400
    api = APIClient()
    _, token = ApiTokenFactory.issue(name="ops tooling")
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    refused = api.get("/api/v1/exceptions/", {"location": "\x00"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"


def test_an_assignee_that_is_not_a_number_is_a_message(shop, client, morning):
    signed_in(client, shop["maria"])
    url = f"/store/exceptions/{morning['fresh'].pk}/assign/"
    answer = client.post(url, {"assignee": "²"}, **HTMX)
    assert "Enter a whole number." in answer.content.decode()


def test_staff_never_see_a_count_variance_it_names_the_records_figure(shop, client):
    exception_raise(
        raised=Raised(
            kind="count_variance",
            key="count_line:1",
            title="TEE-BLK-M at LON-OXF: counted 8, records 10 (-2)",
            location=shop["oxford"],
        )
    )
    signed_in(client, shop["alice"])
    assert "records 10" not in client.get("/store/exceptions/").content.decode()
    signed_in(client, shop["maria"])
    assert "records 10" in client.get("/store/exceptions/").content.decode()


def test_a_signed_in_member_of_staff_reads_only_their_store_in_the_api(shop, morning):
    carol = shop["carol"]
    carol.is_staff = True
    carol.save()
    api = APIClient()
    api.force_login(carol)
    listed = api.get("/api/v1/exceptions/").json()
    assert [case["location"] for case in listed["results"]] == ["LON-CAM"]
    assert api.get(f"/api/v1/exceptions/{morning['fresh'].pk}/").status_code == 404


def test_finish_asks_about_what_is_not_scanned_as_the_list_stands(shop, client):
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M", "HOOD-GRE-L"],
        actor=Actor.of_user(shop["maria"]),
    )
    signed_in(client, shop["alice"])
    url = f"/store/counts/{task.pk}/"
    page = client.get(url).content.decode()
    assert "2 of 2 items not scanned: they will be recorded as none found." in page
    # The list swapped in after a scan carries Finish with the question updated.
    region = client.post(url + "scan/", {"code": "5012345678900"}, **HTMX)
    text = region.content.decode()
    assert 'id="finish-count"' in text and "<html" not in text
    assert "1 of 2 items not scanned: it will be recorded as none found." in text
    hoodie = task.lines.get(sku=shop["hoodie"])
    done = client.post(url + "set/", {"line": hoodie.pk, "quantity": "0"}, **HTMX)
    assert "data-confirm" not in done.content.decode()  # all counted: no question


def test_the_case_offers_the_known_difference_and_its_page_follows_others(
    shop, client, morning
):
    case = exception_raise(
        raised=Raised(
            kind="snapshot_disagreement",
            key="snapshot:oxf-till:TEE-BLK-M@LON-OXF",
            title="TEE-BLK-M at LON-OXF: Oxford tills says 3, the ledger 5",
            sku=shop["tee"],
            location=shop["oxford"],
            facts={"theirs": 3, "ledger": 5},
        )
    )
    signed_in(client, shop["maria"])
    url = f"/store/exceptions/{case.pk}/"
    page = client.get(url).content.decode()
    assert 'name="adjustment" step="1" value="-2"' in page
    assert "Post {units} of TEE-BLK-M at Oxford Street to the ledger?" in page
    assert "user:" not in page and "h of " not in page

    facts = client.get(url, HTTP_HX_TARGET="case-facts", **HTMX)
    seen = re.search(r'"X-Seen": "(\w+)"', facts.content.decode()).group(1)
    assert seen in page  # the page carries the digest its first poll compares with
    again = client.get(url, HTTP_HX_TARGET="case-facts", HTTP_X_SEEN=seen, **HTMX)
    assert again.status_code == 204  # nothing changed: nothing swapped
    client.post(url + "assign/", {"assignee": shop["alice"].pk}, **HTMX)
    changed = client.get(url, HTTP_HX_TARGET="case-facts", HTTP_X_SEEN=seen, **HTMX)
    assert changed.status_code == 200 and "Alice" in changed.content.decode()
    assert "<form" not in changed.content.decode()  # what is typed is never replaced


def test_a_refused_resolution_keeps_what_was_typed_and_marks_the_field(
    shop, client, morning
):
    signed_in(client, shop["maria"])
    url = f"/store/exceptions/{morning['late'].pk}/resolve/"
    panel = client.post(
        url,
        {"resolution": "stock_adjusted", "adjustment": "two", "note": "Shelf"},
        **HTMX,
    ).content.decode()
    assert "Enter a whole number." in panel and 'role="alert"' in panel
    assert 'value="two"' in panel and 'value="Shelf"' in panel
    assert re.search(r'id="adjustment"[^>]*aria-invalid="true"', panel)


def test_a_rejection_without_a_reason_is_asked_for_beside_its_line(shop, client):
    task, line = counted_short_twice(shop, client)
    decide = f"/store/counts/{task.pk}/decide/"
    refused = client.post(decide, {"line": line.pk, "decision": "reject", "note": ""})
    assert refused.status_code == 404  # staff: no review, no decision
    signed_in(client, shop["maria"])
    refused = client.post(decide, {"line": line.pk, "decision": "reject", "note": " "})
    text = refused.content.decode()
    assert refused.status_code == 400 and "Say why the records are right." in text
    assert f'id="decide-error-{line.pk}"' in text
    assert "awaiting_approval" not in re.sub(r"<[^>]*>", " ", text)
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 10


def test_a_new_case_waits_less_than_a_minute_so_its_polls_swap_nothing(
    shop, client, morning
):
    """A case raised seconds ago reads "less than a minute", not "2 seconds" then "7
    seconds": its facts stay the same from one poll to the next."""
    signed_in(client, shop["maria"])
    case = morning["fresh"]
    url = f"/store/exceptions/{case.pk}/"
    # Raised 2 s, then 7 s ago, both in the same minute of the clock (the case shows
    # when it was raised, to the minute): not across a minute's turn.
    time.sleep(max(0, 9 - timezone.now().second))
    ExceptionCase.objects.filter(pk=case.pk).update(
        first_raised_at=timezone.now() - timedelta(seconds=2)
    )
    facts = client.get(url, HTTP_HX_TARGET="case-facts", **HTMX)
    assert "less than a minute" in facts.content.decode()
    assert "second" not in re.sub(r"<[^>]*>", " ", facts.content.decode())
    seen = re.search(r'"X-Seen": "(\w+)"', facts.content.decode()).group(1)
    ExceptionCase.objects.filter(pk=case.pk).update(
        first_raised_at=timezone.now() - timedelta(seconds=7)
    )
    again = client.get(url, HTTP_HX_TARGET="case-facts", HTTP_X_SEEN=seen, **HTMX)
    assert again.status_code == 204
    listed = client.get("/store/exceptions/?location=LON-OXF").content.decode()
    assert "less than a minute" in listed
    ExceptionCase.objects.filter(pk=case.pk).update(
        first_raised_at=timezone.now() - timedelta(minutes=3, seconds=5)
    )
    assert "3 minutes" in client.get(url).content.decode()
