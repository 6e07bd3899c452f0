"""The nightly reconciliation: the balances proved against the ledger, the tills' own
snapshots compared with the ledger as of their moment, every run stored, and a run
cut off half-way finished by the next start without counting anything twice."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from config.access import Actor
from inventory.models import MovementType, StockBalance
from reconciliation.models import ExceptionCase, ReconciliationRun, StockSnapshot
from reconciliation.services import runs
from reconciliation.services.runs import (
    RunInProgress,
    reconciliation_run_perform,
    reconciliation_run_start,
)
from tests.factories import StockEvents, stock
from tests.reconciliation.snapshots import page, send


def reconcile(trigger="nightly"):
    run = reconciliation_run_start(trigger=trigger, actor=Actor.system("test"))
    return reconciliation_run_perform(run_id=run.pk)


def reconcile_dying_on_the_second_step(monkeypatch):
    """A run whose database goes away as it compares the second chunk of rows."""
    compare = runs._compare_next_rows
    calls = {"n": 0}

    def dies_on_the_second_chunk(run):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("the database went away")
        compare(run)

    with monkeypatch.context() as patched:
        patched.setattr(runs, "_compare_next_rows", dies_on_the_second_chunk)
        return reconcile()


def cases(kind):
    return list(ExceptionCase.objects.filter(kind=kind, status="open").order_by("key"))


def test_a_clean_ledger_is_a_quiet_night_and_the_run_is_stored(shop):
    stock(shop["tee"], shop["oxford"], 5)
    stock(shop["hoodie"], shop["camden"], 2)

    run = reconcile()

    assert run.status == "finished" and run.phase == "done"
    assert (run.entries_checked, run.balances_checked, run.drift_found) == (2, 2, 0)
    assert run.finished_at >= run.started_at and run.duration_seconds >= 0
    assert run.percent == 100
    assert not ExceptionCase.objects.exists()


def test_a_tampered_balance_is_found_repaired_and_named_in_the_report(shop):
    stock(shop["tee"], shop["oxford"], 5)
    StockBalance.objects.filter(sku=shop["tee"]).update(on_hand=9, reserved=1)

    run = reconcile()

    assert run.drift_found == 1
    (row,) = run.report["drift"]
    assert (row["sku"], row["location"]) == ("TEE-BLK-M", "LON-OXF")
    assert row["fields"]["on_hand"] == {"stored": "9", "ledger": "5"}
    assert row["fields"]["reserved"] == {"stored": "1", "ledger": "0"}
    (case,) = cases("ledger_drift")
    assert case.link == "" or case.sku == shop["tee"]
    balance = StockBalance.objects.get(sku=shop["tee"])
    assert (balance.on_hand, balance.reserved) == (5, 0)


def test_the_tills_snapshot_disagreeing_beyond_tolerance_is_a_case(shop, till):
    stock(shop["tee"], shop["oxford"], 10)
    stock(shop["hoodie"], shop["oxford"], 50)
    stock(shop["polo"], shop["oxford"], 4)
    taken = timezone.now()
    answer = send(
        till,
        page(
            [
                ("TEE-BLK-M", "LON-OXF", 6),  # four short: beyond 1 unit or 2 %
                ("HOOD-GRE-L", "LON-OXF", 49),  # one off: within tolerance
                ("POLO-BLU-M", "LON-OXF", 4),
            ],
            taken_at=taken,
        ),
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["status"] == "complete"

    run = reconcile()

    assert (run.snapshots_compared, run.snapshot_rows_checked) == (1, 3)
    assert run.disagreements_found == 1
    (case,) = cases("snapshot_disagreement")
    assert case.key == "snapshot:oxf-till:TEE-BLK-M@LON-OXF"
    assert (case.facts["theirs"], case.facts["ledger"]) == (6, 10)
    assert "Oxford tills says 6, the ledger 10" in case.title
    snapshot = StockSnapshot.objects.get()
    assert (snapshot.status, snapshot.disagreements) == ("compared", 1)
    assert snapshot.compared_in == run


def test_the_ledger_is_taken_as_of_the_snapshots_moment(shop, till):
    """A sale rung up before the snapshot but sent late is in the till's figure; a
    sale after the snapshot is not. Neither is a disagreement."""
    an_hour_ago = timezone.now() - timedelta(hours=1)
    StockEvents.post(
        MovementType.RECEIPT,
        sku=shop["tee"],
        location=shop["oxford"],
        quantity=10,
        occurred_at=an_hour_ago - timedelta(hours=1),
    )
    send(till, page([("TEE-BLK-M", "LON-OXF", 7)], taken_at=an_hour_ago))
    for occurred, sold in ((an_hour_ago - timedelta(minutes=5), 3), (None, 2)):
        StockEvents.post(
            MovementType.SALE,
            sku=shop["tee"],
            location=shop["oxford"],
            quantity=sold,
            channel=till["channel"],
            occurred_at=occurred,
        )

    run = reconcile()

    assert run.disagreements_found == 0 and not cases("snapshot_disagreement")


def test_a_second_run_finds_nothing_new_and_a_fixed_figure_settles_the_case(shop, till):
    stock(shop["tee"], shop["oxford"], 10)
    send(till, page([("TEE-BLK-M", "LON-OXF", 3)], snapshot_id="EOD-1"))
    reconcile()
    again = reconcile()
    (case,) = cases("snapshot_disagreement")
    assert case.times_raised == 1  # the same snapshot is compared once
    assert (again.snapshots_compared, again.disagreements_found) == (0, 0)

    send(till, page([("TEE-BLK-M", "LON-OXF", 10)], snapshot_id="EOD-2"))
    reconcile()

    case.refresh_from_db()
    assert (case.status, case.resolution) == ("resolved", "settled_at_source")


def test_only_each_channels_latest_snapshot_is_compared(shop, till):
    stock(shop["tee"], shop["oxford"], 10)
    now = timezone.now()
    send(till, page([("TEE-BLK-M", "LON-OXF", 1)], snapshot_id="OLD", taken_at=now))
    send(
        till,
        page(
            [("TEE-BLK-M", "LON-OXF", 10)],
            snapshot_id="NEW",
            taken_at=now + timedelta(seconds=1),
        ),
    )
    run = reconcile()
    statuses = dict(StockSnapshot.objects.values_list("snapshot_id", "status"))
    assert statuses == {"OLD": "superseded", "NEW": "compared"}
    assert run.disagreements_found == 0


def test_a_run_cut_off_half_way_is_finished_by_the_next_start(
    shop, till, settings, monkeypatch
):
    settings.RECONCILIATION_CHUNK_ROWS = 2
    skus = [shop["tee"], shop["hoodie"], shop["polo"]]
    for sku in skus:
        stock(sku, shop["oxford"], 10)
        stock(sku, shop["camden"], 10)
    rows = [(sku.code, where, 0) for sku in skus for where in ("LON-OXF", "LON-CAM")]
    send(till, page(rows))
    StockBalance.objects.filter(sku=shop["polo"], location=shop["camden"]).update(
        on_hand=11
    )
    cut_off = reconcile_dying_on_the_second_step(monkeypatch)
    assert cut_off.status == "failed" and "went away" in cut_off.error
    assert cut_off.snapshot_rows_checked == 2 and cut_off.checkpoint["after_row"]
    assert len(cases("snapshot_disagreement")) == 2

    finished = reconcile()

    assert finished.pk == cut_off.pk and finished.resumed == 1
    assert finished.progress_done == finished.progress_total  # nothing counted twice
    assert finished.status == "finished"
    assert (finished.drift_found, finished.snapshot_rows_checked) == (1, 6)
    assert finished.disagreements_found == 6
    assert [c.times_raised for c in cases("snapshot_disagreement")] == [1] * 6
    assert [entry["event"] for entry in finished.history] == [
        "started",
        "failed",
        "resumed",
        "finished",
    ]
    assert StockSnapshot.objects.get().disagreements == 6


def test_one_run_at_a_time_and_a_silent_one_is_taken_over(shop):
    first = reconciliation_run_start(
        trigger="manager", actor=Actor.of_user(shop["maria"])
    )
    with pytest.raises(RunInProgress):
        reconciliation_run_start(trigger="nightly", actor=Actor.system("nightly"))

    # The worker running it was killed: no step for longer than the stale limit.
    ReconciliationRun.objects.filter(pk=first.pk).update(
        heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    taken_over = reconciliation_run_start(
        trigger="nightly", actor=Actor.system("nightly")
    )
    assert taken_over.pk == first.pk and taken_over.resumed == 1
    assert reconciliation_run_perform(run_id=first.pk).status == "finished"


def test_past_the_case_limit_one_case_sums_up_the_rest(shop, till, settings):
    settings.SNAPSHOT_CASES_MAX = 1
    for sku in (shop["tee"], shop["hoodie"], shop["polo"]):
        stock(sku, shop["oxford"], 10)
    send(
        till,
        page(
            [(code, "LON-OXF", 0) for code in ("TEE-BLK-M", "HOOD-GRE-L", "POLO-BLU-M")]
        ),
    )
    run = reconcile()
    assert run.disagreements_found == 3
    keys = [case.key for case in cases("snapshot_disagreement")]
    assert keys == ["snapshot:oxf-till:TEE-BLK-M@LON-OXF", "snapshot:oxf-till:many"]
    assert len(run.report["disagreements"]) == 3


def test_manage_py_reconcile_reports_what_it_found(shop, capsys):
    stock(shop["tee"], shop["oxford"], 5)
    call_command("reconcile", "--no-progress")
    out = capsys.readouterr().out
    assert "finished" in out and "1 ledger entries" in out and "0 drifted" in out


def test_a_resumed_run_checks_the_ledger_again_before_its_snapshots(
    shop, till, settings, monkeypatch
):
    """Cut off one night, taken up the next: a balance that drifted in between is
    repaired first, so the till is not blamed for it."""
    settings.RECONCILIATION_CHUNK_ROWS = 1
    stock(shop["tee"], shop["oxford"], 10)
    stock(shop["hoodie"], shop["oxford"], 10)
    send(till, page([("TEE-BLK-M", "LON-OXF", 10), ("HOOD-GRE-L", "LON-OXF", 10)]))
    assert reconcile_dying_on_the_second_step(monkeypatch).status == "failed"
    StockBalance.objects.filter(sku=shop["hoodie"]).update(on_hand=99)

    finished = reconcile()

    assert (finished.status, finished.drift_found) == ("finished", 1)
    assert StockBalance.objects.get(sku=shop["hoodie"]).on_hand == 10
    assert not cases("snapshot_disagreement")
    assert finished.snapshot_rows_checked == 2


def test_a_run_that_fails_every_time_is_abandoned_for_a_new_one(shop, settings):
    settings.RECONCILIATION_MAX_RESUMES = 2
    run = reconciliation_run_start(trigger="nightly", actor=Actor.system("nightly"))
    ReconciliationRun.objects.filter(pk=run.pk).update(status="failed", resumed=2)

    fresh = reconciliation_run_start(trigger="nightly", actor=Actor.system("nightly"))

    run.refresh_from_db()
    assert fresh.pk != run.pk and run.status == "abandoned"
    assert reconciliation_run_perform(run_id=fresh.pk).status == "finished"


def test_a_long_code_makes_a_case_not_a_failed_run(shop, till):
    from tests.factories import LocationFactory, SkuFactory

    sku, where = SkuFactory(code="S" * 64), LocationFactory(code="L" * 64)
    stock(sku, where, 5)
    send(till, page([("S" * 64, "L" * 64, 1)]))
    run = reconcile()
    assert run.status == "finished" and run.disagreements_found == 1


def test_the_nightly_job_runs_once_and_steps_aside_for_a_run_in_progress(shop):
    from reconciliation.tasks import reconcile as nightly

    stock(shop["tee"], shop["oxford"], 5)
    assert nightly() == "finished"
    reconciliation_run_start(trigger="manager", actor=Actor.of_user(shop["maria"]))
    assert nightly() == "running elsewhere"
    assert ReconciliationRun.objects.count() == 2


@pytest.mark.parametrize("left", ["failed", "running, its worker gone"])
def test_an_abandoned_run_leaves_its_half_compared_snapshot_to_be_counted_afresh(
    shop, till, settings, monkeypatch, left
):
    settings.RECONCILIATION_CHUNK_ROWS = 1
    settings.RECONCILIATION_MAX_RESUMES = 1
    stock(shop["tee"], shop["oxford"], 10)
    stock(shop["hoodie"], shop["oxford"], 10)
    send(till, page([("TEE-BLK-M", "LON-OXF", 1), ("HOOD-GRE-L", "LON-OXF", 1)]))
    cut_off = reconcile_dying_on_the_second_step(monkeypatch)
    ReconciliationRun.objects.filter(pk=cut_off.pk).update(
        resumed=1,
        status="failed" if left == "failed" else "running",
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )

    fresh = reconcile()

    cut_off.refresh_from_db()
    assert cut_off.status == "abandoned" and fresh.pk != cut_off.pk
    assert fresh.status == "finished" and fresh.disagreements_found == 2
    assert StockSnapshot.objects.get().disagreements == 2
    assert len(cases("snapshot_disagreement")) == 2
