"""A picker on a phone while the database is out of reach (config/unavailable.py):
a form sent from the screen is answered 503, and the screen says so where a screen
reader reads it; a page opened meanwhile is a plain "try again in a moment", and
Enter tries again. The server's answers are the app's own (its 503 page, rendered
by config.unavailable); the browser is told them, as the database cannot be taken
from under a test's live server. The real outage is tests/config/test_outage.py."""

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from playwright.sync_api import expect

from config.unavailable import unavailable_answer
from tests.conftest import axe_clean, no_sideways_scroll, sign_in_by_keyboard
from tests.factories import pickup_order, stock

pytestmark = pytest.mark.django_db(transaction=True)


def answered_unavailable(path: str, method: str = "GET"):
    request = getattr(RequestFactory(), method.lower())(path)
    return unavailable_answer(request, OperationalError("connection refused"))


def test_a_claim_sent_while_the_database_is_away_is_said_not_saved(shop, phone):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop, "WEB-8001", lines=[(shop["tee"], 1)]).pickup_task
    page = phone
    sign_in_by_keyboard(page, "alice")
    page.goto(f"/store/tasks/{task.pk}/")
    expect(page.get_by_role("button", name="Claim this order")).to_be_focused()

    away = answered_unavailable(f"/store/tasks/{task.pk}/claim/", "POST")
    page.route(
        "**/store/tasks/**",
        lambda route: (
            route.fulfill(
                status=away.status_code,
                headers=dict(away.items()),
                body=away.content,
            )
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    page.keyboard.press("Enter")
    said = page.locator("#messages [role=alert]")
    expect(said).to_have_text(
        "One stock cannot reach its database just now: that may not have been "
        "saved. Check, then try again in about 5 seconds."
    )
    expect(said).to_be_in_viewport()
    page.shot("claim-not-saved")
    task.refresh_from_db()
    assert task.claimed_by is None


def test_a_page_opened_while_the_database_is_away_says_try_again(shop, phone):
    page = phone
    sign_in_by_keyboard(page, "alice")
    away = answered_unavailable("/store/")
    assert away.status_code == 503 and away["Retry-After"] == "5"
    page.route(
        "**/store/",
        lambda route: route.fulfill(
            status=503, headers=dict(away.items()), body=away.content
        ),
    )
    page.goto("/store/")
    expect(page.get_by_role("heading", name="Try again in a moment")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "One stock cannot reach its database just now."
    )
    again = page.get_by_role("link", name="Try again")
    expect(again).to_be_focused()
    no_sideways_scroll(page)
    axe_clean(page)
    page.shot("try-again")

    page.unroute("**/store/")  # the database is back
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Pickup queue")).to_be_visible()


def test_a_form_sent_while_away_goes_back_to_the_screen_it_came_from():
    request = RequestFactory().post(
        "/store/tasks/7/claim/", HTTP_REFERER="http://testserver/store/tasks/7/"
    )
    away = unavailable_answer(request, OperationalError("gone"))
    page = away.content.decode()
    assert 'href="http://testserver/store/tasks/7/"' in page
    assert "may not have been saved" in page
    # Somewhere else's address is not followed.
    elsewhere = RequestFactory().post(
        "/store/tasks/7/claim/", HTTP_REFERER="https://evil.example/"
    )
    assert (
        'href="/"' in unavailable_answer(elsewhere, OperationalError()).content.decode()
    )


def test_a_bug_is_still_a_500_and_a_middlewares_lost_database_a_503(rf):
    from config.views import server_error

    assert unavailable_answer(rf.get("/store/"), ZeroDivisionError()) is None
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        answer = server_error(rf.get("/api/v1/orders/"))
    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    try:
        raise KeyError("a bug")
    except KeyError:
        assert server_error(rf.get("/api/v1/orders/")).status_code == 500


def test_a_statement_the_database_refused_is_not_an_outage(rf):
    """A deadlock or a timed-out statement is the database answering: a 500,
    logged and reported as the fault it is, never a 503 that hides it."""
    import psycopg.errors

    from config.views import server_error

    for refused in (
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
    ):
        error = OperationalError(str(refused))
        error.__cause__ = refused
        assert unavailable_answer(rf.get("/api/v1/orders/"), error) is None
        try:
            raise error
        except OperationalError:
            assert server_error(rf.get("/api/v1/orders/")).status_code == 500
    gone = psycopg.errors.AdminShutdown("terminating connection")
    error = OperationalError(str(gone))
    error.__cause__ = gone
    answer = unavailable_answer(rf.get("/api/v1/orders/"), error)
    assert (answer.status_code, answer["X-Unavailable"]) == (503, "database")
