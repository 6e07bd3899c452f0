"""Blind cycle counts on the shop floor: Alice counts what the manager asked for
without ever seeing the system's figure; a miscount is recounted once; a real
variance waits for Maria, whose approval posts the count."""

from collections import Counter
from datetime import date, timedelta

import pytest
from django.utils import timezone

from config.access import Actor
from config.errors import InvalidInput, NotFound, PermissionRefused
from inventory.models import MovementType, StockMovement
from reconciliation.models import CountLine, CountTask, ExceptionCase
from reconciliation.selectors import record_accuracy
from reconciliation.services.counts import (
    CountTransitionRefused,
    count_line_decide,
    count_line_scan,
    count_line_set,
    count_task_start,
    count_task_submit,
    count_tasks_generate,
    nightly_sample,
)
from tests.factories import ChannelFactory, SkuFactory, StockEvents, balance_of, stock

TEE_BARCODE = "5012345678900"


@pytest.fixture
def tee_count(shop):
    """Ten tees on the Oxford Street shelf; Maria asks for them to be counted."""
    stock(shop["tee"], shop["oxford"], 10)
    return count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M"],
        actor=Actor.of_user(shop["maria"]),
    )


def count(shop, task, units):
    count_line_scan(
        task_id=task.pk,
        code=TEE_BARCODE,
        quantity=units,
        actor=Actor.of_user(shop["alice"]),
    )
    return count_task_submit(task_id=task.pk, actor=Actor.of_user(shop["alice"]))


def tee_line(task):
    return task.lines.get()


def test_a_count_that_matches_is_accurate_and_posted(shop, tee_count):
    task = count(shop, tee_count, 10)
    line = tee_line(task)
    assert (task.status, line.status, line.result) == ("done", "accurate", "within")
    assert line.posted.type == MovementType.COUNT and line.posted.quantity == 10
    assert balance_of(shop["tee"], shop["oxford"]).last_count_at == line.counted_at


def test_each_scan_adds_one_and_a_typed_figure_replaces_them(shop, tee_count):
    for _ in range(3):
        count_line_scan(
            task_id=tee_count.pk, code="TEE-BLK-M", actor=Actor.of_user(shop["alice"])
        )
    assert tee_line(tee_count).counted == 3
    count_line_set(
        task_id=tee_count.pk,
        line_id=tee_line(tee_count).pk,
        quantity=10,
        actor=Actor.of_user(shop["alice"]),
    )
    assert tee_line(tee_count).counted == 10


def test_a_miscount_is_recounted_blind_and_then_accurate(shop, tee_count):
    task = count(shop, tee_count, 8)
    line = tee_line(task)
    assert (task.status, line.status) == ("recount", "to_recount")
    assert line.counted is None and line.first_count == 8  # nothing to copy from
    assert not StockMovement.objects.filter(type="count").exists()

    task = count(shop, task, 10)
    assert (task.status, tee_line(task).result) == ("done", "within")


def test_a_variance_twice_waits_for_the_manager_whose_approval_posts_it(
    shop, tee_count
):
    task = count(shop, count(shop, tee_count, 8), 8)
    line = tee_line(task)
    assert (task.status, line.status, line.result) == (
        "awaiting_approval",
        "awaiting_approval",
        "beyond",
    )
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 10  # not yet
    case = ExceptionCase.objects.get(kind="count_variance", status="open")
    assert "counted 8, records 10 (-2)" in case.title
    assert case.link == f"/store/counts/{task.pk}/review/"

    with pytest.raises(PermissionRefused):
        count_line_decide(
            task_id=task.pk,
            line_id=line.pk,
            approve=True,
            actor=Actor.of_user(shop["alice"]),
        )
    count_line_decide(
        task_id=task.pk,
        line_id=line.pk,
        approve=True,
        actor=Actor.of_user(shop["maria"]),
    )

    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 8
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.status == "done" and case.status == "resolved"
    assert "approved: count posted" in case.resolution_note


def test_a_rejected_variance_keeps_the_records_and_says_why(shop, tee_count):
    task = count(shop, count(shop, tee_count, 8), 8)
    line = tee_line(task)
    with pytest.raises(InvalidInput):
        count_line_decide(
            task_id=task.pk,
            line_id=line.pk,
            approve=False,
            actor=Actor.of_user(shop["maria"]),
        )
    count_line_decide(
        task_id=task.pk,
        line_id=line.pk,
        approve=False,
        note="Two were on the display table",
        actor=Actor.of_user(shop["maria"]),
    )
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 10
    assert tee_line(task).status == CountLine.Status.REJECTED


def test_a_till_sale_after_the_count_is_not_a_variance(shop, tee_count):
    count_line_scan(
        task_id=tee_count.pk,
        code=TEE_BARCODE,
        quantity=10,
        actor=Actor.of_user(shop["alice"]),
    )
    StockEvents.post(  # sold while Alice walks back to the till to submit
        MovementType.SALE,
        sku=shop["tee"],
        location=shop["oxford"],
        quantity=1,
        channel=ChannelFactory(code="oxf-till", kind="store_pos"),
        occurred_at=timezone.now() + timedelta(seconds=1),
    )
    task = count_task_submit(task_id=tee_count.pk, actor=Actor.of_user(shop["alice"]))
    assert tee_line(task).result == "within"
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 9


def test_within_a_percent_tolerance_is_accurate(shop, settings):
    settings.COUNT_TOLERANCE_PERCENT = 10
    stock(shop["tee"], shop["oxford"], 10)
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=[TEE_BARCODE],
        actor=Actor.of_user(shop["maria"]),
    )
    assert tee_line(count(shop, task, 9)).result == "within"


def test_what_is_not_scanned_counts_as_none(shop):
    stock(shop["hoodie"], shop["oxford"], 2)
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=["HOOD-GRE-L"],
        actor=Actor.of_user(shop["maria"]),
    )
    task = count_task_submit(task_id=task.pk, actor=Actor.of_user(shop["alice"]))
    assert task.status == "recount" and task.lines.get().first_count == 0


def test_who_may_count_and_start(shop, tee_count):
    with pytest.raises(PermissionRefused):
        count_task_start(
            location=shop["oxford"],
            sku_codes=["TEE-BLK-M"],
            actor=Actor.of_user(shop["alice"]),
        )
    with pytest.raises(NotFound):  # Carol works at Camden
        count_line_scan(
            task_id=tee_count.pk, code=TEE_BARCODE, actor=Actor.of_user(shop["carol"])
        )


@pytest.mark.parametrize(
    ("code", "quantity", "field"),
    [
        ("", 1, "code"),
        ("NOPE", 1, "code"),
        ("HOOD-GRE-L", 1, "code"),
        (TEE_BARCODE, 0, "quantity"),
        (TEE_BARCODE, 10**6, "quantity"),
    ],
)
def test_a_bad_scan_is_a_message_and_counts_nothing(
    shop, tee_count, code, quantity, field
):
    with pytest.raises(InvalidInput) as refused:
        count_line_scan(
            task_id=tee_count.pk,
            code=code,
            quantity=quantity,
            actor=Actor.of_user(shop["alice"]),
        )
    assert field in refused.value.field_errors
    assert tee_line(tee_count).counted is None


def test_an_ad_hoc_count_names_real_skus(shop):
    with pytest.raises(InvalidInput) as refused:
        count_task_start(
            location=shop["oxford"],
            sku_codes=["TEE-BLK-M", "GHOST"],
            actor=Actor.of_user(shop["maria"]),
        )
    assert "GHOST" in refused.value.field_errors["sku_codes"][0]
    assert not CountTask.objects.exists()


def test_nightly_counts_reach_every_sku_within_the_cycle(shop, settings):
    settings.COUNT_CYCLE_DAYS = 3
    settings.COUNT_NIGHTLY_SAMPLE = 0
    skus = [SkuFactory(code=f"SOCK-{n}") for n in range(6)]
    for sku in skus:
        stock(sku, shop["camden"], 1)
    counted = set()
    for night in range(3):
        day = date(2026, 11, 1) + timedelta(days=night)
        assert count_tasks_generate(day=day) == 1  # Camden; Oxford holds nothing
        assert count_tasks_generate(day=day) == 0  # the same night again
        task = CountTask.objects.get(for_date=day)
        assert task.lines.count() == 2
        counted |= set(task.lines.values_list("sku_id", flat=True))
        for line in task.lines.select_related("sku"):
            count_line_scan(
                task_id=task.pk, code=line.sku.code, actor=Actor.of_user(shop["carol"])
            )
        count_task_submit(task_id=task.pk, actor=Actor.of_user(shop["carol"]))
    assert counted == {sku.pk for sku in skus}


def test_the_nightly_sample_leans_to_fast_movers(shop, settings):
    settings.COUNT_CYCLE_DAYS = 365
    settings.COUNT_NIGHTLY_SAMPLE = 1
    skus = [SkuFactory(code=f"CAP-{n}") for n in range(20)]
    for sku in skus:
        stock(sku, shop["camden"], 500)
    StockEvents.post(
        MovementType.SALE, sku=skus[7], location=shop["camden"], quantity=400
    )
    # The draw is seeded by the store and the night, so one night's pick is chance:
    # over sixty nights the fast mover (weight 401 against 1 for each slow one, about
    # 96 % a night) is picked on most of them, and far more often than any other.
    today = timezone.localdate()
    weighted = Counter()
    for night in range(60):
        picked = nightly_sample(location=shop["camden"], day=today - timedelta(night))
        assert len(picked) == 2  # one for the rotation, one weighted
        weighted[picked[1]] += 1
    (most, times), *others = weighted.most_common()
    next_most = others[0][1] if others else 0
    assert most == skus[7].pk
    assert times >= 40 and next_most <= 10


def test_record_accuracy_on_a_known_set(shop, settings):
    stock(shop["tee"], shop["oxford"], 10)
    stock(shop["hoodie"], shop["oxford"], 4)
    stock(shop["tee"], shop["camden"], 5)
    oxford = count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M", "HOOD-GRE-L"],
        actor=Actor.of_user(shop["maria"]),
    )
    lines = {line.sku.code: line for line in oxford.lines.select_related("sku")}
    count_line_set(
        task_id=oxford.pk,
        line_id=lines["TEE-BLK-M"].pk,
        quantity=10,
        actor=Actor.of_user(shop["alice"]),
    )
    count_line_set(
        task_id=oxford.pk,
        line_id=lines["HOOD-GRE-L"].pk,
        quantity=1,
        actor=Actor.of_user(shop["alice"]),
    )
    count_task_submit(task_id=oxford.pk, actor=Actor.of_user(shop["alice"]))
    count_line_set(
        task_id=oxford.pk,
        line_id=lines["HOOD-GRE-L"].pk,
        quantity=1,
        actor=Actor.of_user(shop["alice"]),
    )
    count_task_submit(
        task_id=oxford.pk, actor=Actor.of_user(shop["alice"])
    )  # a real variance
    camden = count_task_start(
        location=shop["camden"],
        sku_codes=["TEE-BLK-M"],
        actor=Actor.of_user(shop["maria"]),
    )
    count_line_scan(
        task_id=camden.pk,
        code=TEE_BARCODE,
        quantity=5,
        actor=Actor.of_user(shop["carol"]),
    )
    count_task_submit(task_id=camden.pk, actor=Actor.of_user(shop["carol"]))

    today = timezone.localdate()
    report = record_accuracy(
        start=today - timedelta(days=6),
        end=today,
        locations=[shop["oxford"], shop["camden"]],
    )
    assert report.at(shop["oxford"].pk, today).percent == 50.0
    assert report.at(shop["camden"].pk, today).percent == 100.0
    overall = report.at(None, None)
    assert (overall.counted, overall.accurate, overall.percent) == (3, 2, 66.7)
    assert report.at(None, today - timedelta(days=1)).percent is None
    assert len(report.days) == 7


def test_pressing_finish_twice_does_not_send_the_recount_as_zeros(shop, tee_count):
    task = count(shop, tee_count, 7)  # beyond tolerance: a recount is asked for
    assert task.status == "recount"
    with pytest.raises(CountTransitionRefused):
        count_task_submit(
            task_id=task.pk, actor=Actor.of_user(shop["alice"]), shown_status="open"
        )
    line = tee_line(task)
    assert (line.status, line.counted) == ("to_recount", None)


def test_a_sku_on_an_open_count_is_not_put_on_another(shop, tee_count):
    with pytest.raises(InvalidInput) as refused:
        count_task_start(
            location=shop["oxford"],
            sku_codes=["TEE-BLK-M"],
            actor=Actor.of_user(shop["maria"]),
        )
    assert f"TEE-BLK-M (#{tee_count.pk})" in refused.value.field_errors["sku_codes"][0]
    assert shop["tee"].pk not in nightly_sample(
        location=shop["oxford"], day=timezone.localdate()
    )


def test_a_kit_is_counted_as_its_components(shop):
    from tests.factories import kit

    kit("TEE-TWIN", (shop["tee"], 2))
    with pytest.raises(InvalidInput) as refused:
        count_task_start(
            location=shop["oxford"],
            sku_codes=["TEE-TWIN"],
            actor=Actor.of_user(shop["maria"]),
        )
    assert "a kit is counted as its components" in str(refused.value.field_errors)
    assert not CountTask.objects.exists()
