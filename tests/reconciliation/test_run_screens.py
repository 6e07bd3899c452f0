"""The manager starts a reconciliation from the screen, a real worker runs it, and the
run's page follows it to the end; store staff never see the runs."""

import time

import pytest

from config.access import Actor
from inventory.models import StockBalance
from reconciliation.models import ReconciliationRun
from reconciliation.services.runs import reconciliation_run_start
from tests.factories import stock

RUNS = "/store/reconciliation/"


@pytest.mark.django_db(transaction=True)
def test_the_manager_starts_a_run_and_a_real_worker_finishes_it(
    shop, client, celery_worker, settings
):
    settings.RECONCILIATION_QUEUE = celery_worker
    stock(shop["tee"], shop["oxford"], 4)
    StockBalance.objects.filter(sku=shop["tee"]).update(on_hand=6)
    client.force_login(shop["maria"])

    answer = client.post(f"{RUNS}start/")
    run = ReconciliationRun.objects.get()
    assert answer.status_code == 302 and answer.url == f"{RUNS}{run.pk}/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and run.status == "running":
        time.sleep(0.3)
        run.refresh_from_db()

    assert (run.status, run.trigger, run.started_by) == (
        "finished",
        "manager",
        "user:maria",
    )
    progress = client.get(f"{RUNS}{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in progress  # finished: the page stops asking
    assert 'id="drift-found">1<' in progress and "TEE-BLK-M" in progress
    listing = client.get(RUNS).content.decode()
    assert f"#{run.pk}" in listing and "Finished" in listing
    # Plain words: a person's name, the figure that drifted, a link to work on it.
    assert "Maria" in listing and "user:maria" not in listing
    assert "user:maria" not in progress and "Maria" in progress
    assert "On hand" in progress and "on_hand" not in progress
    assert "Work on it: the drifted balances" in progress
    assert 'href="/store/exceptions/?kind=ledger_drift"' in progress or (
        "?kind=ledger_drift" in progress
    )


def test_a_running_run_is_followed_and_a_second_start_is_told_why_not(shop, client):
    run = reconciliation_run_start(trigger="nightly", actor=Actor.system("nightly"))
    client.force_login(shop["maria"])

    page = client.get(f"{RUNS}{run.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and 'aria-valuenow="0"' in page
    answer = client.post(f"{RUNS}start/", follow=True)
    assert f"Run {run.pk} is still going" in answer.content.decode()
    assert ReconciliationRun.objects.count() == 1


def test_store_staff_never_see_the_runs(shop, client):
    run = reconciliation_run_start(trigger="nightly", actor=Actor.system("nightly"))
    client.force_login(shop["alice"])
    assert client.get(RUNS).status_code == 404
    assert client.get(f"{RUNS}{run.pk}/").status_code == 404
    assert client.post(f"{RUNS}start/").status_code == 404
    assert ReconciliationRun.objects.count() == 1


def test_a_run_whose_worker_stopped_stops_being_followed(shop, client):
    from datetime import timedelta

    from django.utils import timezone

    run = reconciliation_run_start(
        trigger="manager", actor=Actor.of_user(shop["maria"])
    )
    ReconciliationRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    client.force_login(shop["maria"])
    page = client.get(f"{RUNS}{run.pk}/").content.decode()
    assert "hx-trigger" not in page and "the worker running it has stopped" in page


def test_a_runs_disagreements_name_the_channel_and_the_store(shop, client):
    from catalog.models import Channel

    run = reconciliation_run_start(trigger="nightly", actor=Actor.system("nightly"))
    web = Channel.objects.get(code="web")
    run.report = {
        "disagreements": [
            {"sku": "TEE-BLK-M", "channel": "web", "snapshot": "S-1",
             "location": "LON-OXF", "theirs": 3, "ledger": 4},
        ]
    }  # fmt: skip
    run.save(update_fields=["report"])
    client.force_login(shop["maria"])

    page = client.get(f"{RUNS}{run.pk}/").content.decode()
    # The names people use, the codes small beside them.
    assert f"{web.name} <span" in page
    assert f"{shop['oxford'].name} <span" in page
