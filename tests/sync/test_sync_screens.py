"""The manager's morning look at sync, in a real browser, and the admin where a
failing webhook is re-sent from a point in time."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from config.access import Actor
from sync.models import WebhookSubscription
from sync.services import (
    SubscriptionInput,
    changes_place,
    sync_health_check,
    webhook_deliveries_send,
    webhook_subscription_create,
)
from tests.conftest import axe_clean, go_to, no_sideways_scroll, sign_in
from tests.factories import StaffFactory, StockEvents


def a_failing_webhook(floor, receiver, settings) -> WebhookSubscription:
    settings.WEBHOOK_RETRY_SCHEDULE = [0]
    receiver.answer = 500
    subscription = webhook_subscription_create(
        subscription=SubscriptionInput(
            channel=floor["web"], url=receiver.url, event_kinds=[]
        ),
        actor=Actor(name="test"),
    )
    StockEvents.post(
        "sale", sku=floor["tee"], location=floor["store"], quantity=1,
        channel=floor["pos"], occurred_at=timezone.now() - timedelta(seconds=40),
    )  # fmt: skip
    changes_place()
    webhook_deliveries_send(subscription_id=subscription.pk)
    subscription.refresh_from_db()
    assert subscription.state == "failing"
    return subscription


@pytest.mark.django_db(transaction=True)
def test_the_manager_reads_sync_health_in_a_browser(floor, receiver, settings, tablet):
    a_failing_webhook(floor, receiver, settings)
    sync_health_check()
    StaffFactory.at(username="maria", manager=True)
    page = tablet
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    sign_in(page, "maria")
    go_to(page, "Channel sync")
    expect(page.get_by_role("heading", name="Sync health")).to_be_visible()
    till_row = page.locator("tr.source-pos")
    expect(till_row).to_contain_text("In touch")
    expect(till_row).to_contain_text("40 seconds")  # the sale's lag, in words
    webhook_row = page.locator("table.webhooks tbody tr").first
    expect(webhook_row).to_contain_text("Failing")
    expect(page.locator("table.attempts")).to_contain_text("HTTP 500")
    page.shot("sync-health")
    here = page.url.split("/store/")[0]
    assert [url for url in asked if not url.startswith((here, "data:"))] == []


def test_a_failing_webhook_is_re_sent_from_the_admin(db, floor, receiver, settings):
    subscription = a_failing_webhook(floor, receiver, settings)
    admin = Client()
    admin.force_login(
        get_user_model().objects.create_superuser("root", password="pw-123456!")
    )
    page = admin.get(f"/admin/sync/webhooksubscription/{subscription.pk}/change/")
    assert page.status_code == 200
    assert "HTTP 500" in page.content.decode()  # the attempts, under it
    asked = admin.post(
        "/admin/sync/webhooksubscription/",
        {"action": "resend_from", "_selected_action": [subscription.pk]},
    )
    assert "Re-send from a point in time" in asked.content.decode()
    for beyond_what_the_database_holds in ("2026-12-06T10:00+20:00", "0001-01-01"):
        refused = admin.post(
            "/admin/sync/webhooksubscription/",
            {
                "action": "resend_from",
                "_selected_action": [subscription.pk],
                "apply": "1",
                "since": beyond_what_the_database_holds,
            },
        )
        assert refused.status_code == 200
        assert "Re-send from a point in time" in refused.content.decode()
        assert "errorlist" in refused.content.decode()
    receiver.answer = 200
    done = admin.post(
        "/admin/sync/webhooksubscription/",
        {
            "action": "resend_from",
            "_selected_action": [subscription.pk],
            "apply": "1",
            "since": (timezone.localtime() - timedelta(hours=1)).strftime(
                "%Y-%m-%d %H:%M"
            ),
        },
        follow=True,
    )
    assert "will be sent every change" in done.content.decode()
    subscription.refresh_from_db()
    assert subscription.state == "healthy"
    webhook_deliveries_send(subscription_id=subscription.pk)
    assert receiver.events()[-1]["data"]["sku"] == "TEE-BLK-M"


@pytest.mark.django_db(transaction=True)
def test_a_source_days_behind_reads_so_never_in_touch(floor, till_pc, phone):
    """The demo's tills sent a week-old sale this hour: the lag is said in days, and
    the state is "behind", not a green "In touch" beside it."""
    StockEvents.post(
        "sale", sku=floor["tee"], location=floor["store"], quantity=1,
        channel=floor["pos"], occurred_at=timezone.now() - timedelta(days=6, hours=2),
    )  # fmt: skip
    sync_health_check()
    StaffFactory.at(username="maria", manager=True)
    for page in (till_pc, phone):
        sign_in(page, "maria")
        page.goto("/store/sync/")
        till_row = page.locator("tr.source-pos")
        expect(till_row.locator(".badge")).to_have_text("Behind")
        expect(till_row).to_contain_text("6 days behind")
        expect(till_row).not_to_contain_text("In touch")
        no_sideways_scroll(page)
        axe_clean(page)
        page.shot("days-behind")
