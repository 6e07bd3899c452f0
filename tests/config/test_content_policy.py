"""The Content-Security-Policy: on every screen's answer, strict (no inline script or
style, no eval), and still letting the screens work in a real browser: the pickup
queue's HTMX, the dashboard's Chart.js and the API docs' Swagger UI, all from this
server, with no violation reported."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import go_to, sign_in
from tests.factories import pickup_order, stock

HEADER = "Content-Security-Policy"


def directives(policy: str) -> dict[str, list[str]]:
    return {
        name: sources
        for name, *sources in (part.split() for part in policy.split(";") if part)
    }


def test_the_screens_carry_the_policy_and_the_api_answers_do_not(client, shop):
    client.force_login(shop["maria"])
    for path in (
        "/store/",
        "/store/dashboard/",
        "/store/returns/insight/",
        "/api/docs/",
        "/admin/login/",
    ):
        answer = client.get(path, follow=True)
        assert answer.status_code == 200, path
        policy = directives(answer[HEADER])
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert "'unsafe-inline'" not in answer[HEADER], path
        assert "'unsafe-eval'" not in answer[HEADER], path
    client.logout()
    assert HEADER in client.get("/login/")
    # JSON is no document a browser runs: the API's answers skip the header's cost.
    assert HEADER not in client.get("/api/schema/", HTTP_ACCEPT="application/json")


WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(tablet):
    """The tablet, with every policy violation the page reports (its events and the
    console's words) and every address it asks, kept."""
    page = tablet
    page.add_init_script(WATCH)
    page.console_refusals = []
    page.asked = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            and page.console_refusals.append(message.text)
        ),
    )
    page.on("request", lambda request: page.asked.append(request.url))
    return page


def no_violations(page) -> None:
    assert page.evaluate("window.__violations") == []
    assert page.console_refusals == []


@pytest.mark.django_db(transaction=True)
def test_the_screens_work_under_the_policy_with_nothing_refused(
    shop, watched, live_server
):
    page = watched
    stock(shop["tee"], shop["oxford"], 1)
    pickup_order(shop, "WEB-7001")

    # The pickup queue: HTMX from static/, and the store switch without onchange="".
    sign_in(page, "maria")
    answer = page.goto("/store/?location=LON-OXF")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("document.querySelector('style') === null")  # htmx added none
    page.get_by_label("Store").select_option("LON-CAM")
    expect(page).to_have_url(re.compile("location=LON-CAM"))
    page.get_by_label("Store").select_option("LON-OXF")
    page.get_by_role("link", name=re.compile("WEB-7001")).click()
    page.get_by_role("button", name="Claim this order").click()  # an HTMX post
    expect(page.get_by_role("status")).to_have_text("Claimed: it is yours to pick.")
    no_violations(page)
    page.shot("pickup")

    # The dashboard: Chart.js draws every chart shown from the JSON beside it (the
    # figures folded away are drawn when they are opened).
    go_to(page, "Dashboard")
    # A function, not an expression, which Playwright would eval() in the page.
    page.wait_for_function(
        "() => typeof Chart !== 'undefined' && Array.from("
        "document.querySelectorAll('canvas[data-chart]')).every("
        "c => c.closest('details:not([open])') || Chart.getChart(c))"
    )
    page.get_by_label("Location", exact=True).select_option("LON-CAM")  # HTMX swap
    expect(page).to_have_url(re.compile("location=LON-CAM"))
    no_violations(page)
    page.shot("dashboard")

    # The API docs: Swagger UI from the sidecar, started by a script file; a call
    # tried from it goes to this server.
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("One stock API")
    channels = page.locator(".opblock-get", has_text="/api/v1/channels/").first
    channels.locator(".opblock-summary").click()
    channels.get_by_role("button", name="Try it out").click()
    channels.get_by_role("button", name="Execute").click()
    answered = channels.locator(".live-responses-table tbody .response-col_status")
    expect(answered).to_have_text("200")  # maria's session, from this server
    no_violations(page)
    page.shot("api-docs")

    # Everything came from this server: the screens work offline.
    assert [
        url for url in page.asked if not url.startswith((live_server.url, "data:"))
    ] == []

    # And the policy is enforced, and seen: a script written into the page by
    # someone else's data is refused, and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = true'; document.body.append(s); }"
    )
    page.wait_for_function("() => window.__violations.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert page.evaluate("window.__violations")[0].startswith("script-src")
