"""Stock from files: a retailer going live sends its opening stock as one CSV, and its
stocktakes as counts; each file is checked whole first, then written page by page
through the ledger (imports.kinds.stock, inventory.services.bulk_stock)."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from config.access import Actor
from imports.kinds import KINDS
from imports.models import ImportJob
from imports.services import import_job_create, import_job_run
from inventory.models import StockMovement
from inventory.services import balances_rebuild
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    SkuFactory,
    StockEvents,
    balance_of,
    kit,
    stock,
)

pytestmark = pytest.mark.django_db

STOCK_CONTROLLER = Actor(name="user:stock-controller", source="back-office")


def imported(kind: str, text: str, *, name="stock.csv", **options) -> ImportJob:
    """The file sent and its job run to its end, as the worker runs it."""
    job, created = import_job_create(
        kind=kind,
        content=text.encode(),
        file_name=name,
        created_by=STOCK_CONTROLLER,
        **options,
    )
    assert created
    return import_job_run(job_id=job.pk)


def prefix_of(text: str) -> str:
    return f"import:{hashlib.sha256(text.encode()).hexdigest()[:16]}:"


@pytest.fixture
def shop(db):
    return {
        "store": LocationFactory(code="LON-OXF"),
        "warehouse": LocationFactory(code="WH-DAV", kind="warehouse"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "hoodie": SkuFactory(code="HOOD-GRE-L"),
        "web": ChannelFactory(code="web", kind="web", safety_buffer=2),
        "pos": ChannelFactory(code="pos", kind="store_pos"),
    }


OPENING = (
    "sku,location,quantity\n"
    "TEE-BLK-M,LON-OXF,12\n"
    "TEE-BLK-M,WH-DAV,40\n"
    "HOOD-GRE-L,LON-OXF,0\n"
)


@pytest.mark.sqlite_too
def test_going_live_with_opening_stock_from_a_csv(shop, api):
    job = imported("opening_stock", OPENING)

    assert (job.status, job.rows_written, job.rows_wrong) == ("done", 3, 0)
    entry = StockMovement.objects.get(reference=f"{prefix_of(OPENING)}2")
    assert (entry.type, entry.reason, entry.quantity, entry.actor) == (
        "receipt",
        "Opening stock",
        12,
        "user:stock-controller",
    )
    assert entry.channel.code == "back-office-staff"
    # The stock is there to sell at once, as the channels read it.
    row = api.get(
        "/api/v1/availability/",
        {"sku": "TEE-BLK-M", "location": "LON-OXF", "channel": "web"},
    ).json()["results"][0]
    assert (row["on_hand"], row["available"], row["available_to_promise"]) == (
        12,
        12,
        10,
    )
    assert balance_of(shop["tee"], shop["warehouse"]).on_hand == 40
    # 0 units: nothing to post, and no stock history there.
    assert not StockMovement.objects.filter(sku=shop["hoodie"]).exists()
    # The balances are what the ledger says.
    assert balances_rebuild(repair=False) == []


def test_a_wrong_file_is_refused_whole_with_every_wrong_row_named(shop):
    stock(shop["tee"], shop["warehouse"], 5)  # trading there already
    kit("GIFT-SET", (shop["tee"], 1), (shop["hoodie"], 1))
    text = (
        "sku,location,quantity\n"
        "TEE-BLK-M,LON-OXF,12\n"  # 2: right
        "NOPE,LON-OXF,1\n"  # 3
        "TEE-BLK-M,NOWHERE,1\n"  # 4
        "HOOD-GRE-L,LON-OXF,-3\n"  # 5
        "HOOD-GRE-L,LON-OXF,two\n"  # 6
        "TEE-BLK-M,LON-OXF,4\n"  # 7: the pair again
        "TEE-BLK-M,WH-DAV,9\n"  # 8: it has history there
        "GIFT-SET,LON-OXF,1\n"  # 9: a kit holds no stock
        "HOOD-GRE-L,WH-DAV,2000000\n"  # 10
    )

    job = imported("opening_stock", text)

    assert (job.status, job.rows_wrong, job.rows_written) == ("refused", 8, 0)
    said = {(error["line"], error["column"]): error["message"] for error in job.errors}
    assert said == {
        (3, "sku"): "Unknown SKU 'NOPE'.",
        (4, "location"): "Unknown location 'NOWHERE'.",
        (5, "quantity"): "Units are 0 or more.",
        (6, "quantity"): "'two' is not a whole number of units.",
        (7, None): "TEE-BLK-M at LON-OXF is already in the file: one row per SKU "
        "and location.",
        (8, None): "TEE-BLK-M already has stock at WH-DAV; send a count instead.",
        (9, "sku"): "GIFT-SET is a kit: it holds no stock of its own. Give its "
        "components' stock.",
        (10, "quantity"): "At most 1,000,000 units.",
    }
    assert not StockMovement.objects.filter(reference__startswith="import:").exists()


def test_asked_to_skip_wrong_rows_the_right_ones_are_written(shop):
    stock(shop["tee"], shop["warehouse"], 5)
    text = "sku,location,quantity\nTEE-BLK-M,LON-OXF,12\nTEE-BLK-M,WH-DAV,9\n"

    job = imported("opening_stock", text, skip_wrong_rows=True)

    assert (job.status, job.rows_written, job.rows_wrong) == ("done", 1, 1)
    assert balance_of(shop["tee"], shop["store"]).on_hand == 12
    assert balance_of(shop["tee"], shop["warehouse"]).on_hand == 5


@pytest.mark.sqlite_too
def test_the_same_file_again_writes_nothing(shop):
    first = imported("opening_stock", OPENING)

    again, created = import_job_create(
        kind="opening_stock",
        content=OPENING.encode(),
        file_name="again.csv",
        created_by=STOCK_CONTROLLER,
    )

    assert (created, again.pk) == (False, first.pk)
    # And a page written twice writes nothing: its rows' own entries are no stock
    # history, neither at the check nor at the write.
    kind = KINDS["opening_stock"]
    first.scratch = {}
    clean, errors = kind.check(
        [(2, {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": "12"})],
        job=first,
    )
    assert (len(clean), errors) == (1, [])
    assert kind.write(clean, job=first) == 0
    assert "write_errors" not in first.scratch
    assert StockMovement.objects.count() == 2  # the row of 0 units posts nothing
    assert balance_of(shop["tee"], shop["store"]).on_hand == 12


@pytest.mark.sqlite_too
def test_a_file_sent_again_after_its_job_failed_carries_on(shop, settings):
    """The worker's connection drops after the first page committed: the job fails.
    The same file sent again is a new job that writes the rest; the first page's
    entries are its own (the same references and fingerprints), neither stock
    history nor written twice."""
    import imports.kinds.stock as stock_kind

    settings.IMPORT_PAGE_ROWS = 1
    real = stock_kind.opening_stock_write
    calls = []

    def connection_lost(**page):
        calls.append(page)
        if len(calls) == 2:
            raise RuntimeError("the worker lost its connection")
        return real(**page)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stock_kind, "opening_stock_write", connection_lost)
        failed = imported("opening_stock", OPENING)
    assert (failed.status, failed.rows_written) == ("failed", 1)

    again = imported("opening_stock", OPENING, name="opening-again.csv")

    assert (again.status, again.rows_wrong, again.errors) == ("done", 0, [])
    assert again.rows_written == 2  # the two rows the failed job had not written
    entries = StockMovement.objects.filter(reference__startswith=prefix_of(OPENING))
    assert sorted(entries.values_list("reference", "quantity")) == [
        (f"{prefix_of(OPENING)}2", 12),
        (f"{prefix_of(OPENING)}3", 40),
    ]
    # As of when the file was first sent, as the first job wrote them.
    assert {entry.occurred_at for entry in entries} == {failed.created_at}
    assert balance_of(shop["tee"], shop["store"]).on_hand == 12
    assert balance_of(shop["tee"], shop["warehouse"]).on_hand == 40
    assert balances_rebuild(repair=False) == []


def test_a_stocktake_sent_again_after_its_job_failed_posts_each_count_once(
    shop, settings
):
    settings.IMPORT_PAGE_ROWS = 1
    text = "sku,location,counted\nTEE-BLK-M,LON-OXF,7\nHOOD-GRE-L,LON-OXF,3\n"
    counts = type(KINDS["counts"])
    original = counts.write

    def write_then_fail(self, clean, *, job):
        if job.page_number == 2:
            raise RuntimeError("the worker lost its connection")
        return original(self, clean, job=job)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(counts, "write", write_then_fail)
        failed = imported("counts", text, name="stocktake.csv")
    assert (failed.status, failed.rows_written) == ("failed", 1)

    again = imported("counts", text, name="stocktake (2).csv")

    assert (again.status, again.rows_written, again.errors) == ("done", 1, [])
    counts_made = StockMovement.objects.filter(type="count").order_by("reference")
    assert [(c.quantity, c.reason) for c in counts_made] == [
        (7, "Count imported from stocktake.csv"),
        (3, "Count imported from stocktake.csv"),
    ]
    assert {c.occurred_at for c in counts_made} == {failed.created_at}
    assert balance_of(shop["tee"], shop["store"]).on_hand == 7
    assert balance_of(shop["hoodie"], shop["store"]).on_hand == 3


def test_a_sale_between_the_check_and_the_write_wins(shop):
    """The till sells at a store while the file waits for its write: the row is left
    out, reported, and the sale stands."""
    job, _ = import_job_create(
        kind="opening_stock",
        content=OPENING.encode(),
        file_name="o.csv",
        created_by=STOCK_CONTROLLER,
    )
    kind = KINDS["opening_stock"]
    job.scratch = {}
    clean, errors = kind.check(
        [
            (2, {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": "12"}),
            (3, {"sku": "HOOD-GRE-L", "location": "LON-OXF", "quantity": "4"}),
        ],
        job=job,
    )
    assert errors == []
    StockEvents.post(
        "sale", sku=shop["tee"], location=shop["store"], quantity=1, channel=shop["pos"]
    )

    assert kind.write(clean, job=job) == 1

    (left_out,) = job.scratch["write_errors"]
    assert (left_out.line, left_out.message) == (
        2,
        "TEE-BLK-M already has stock at LON-OXF; send a count instead.",
    )
    assert balance_of(shop["tee"], shop["store"]).on_hand == -1
    assert balance_of(shop["hoodie"], shop["store"]).on_hand == 4


def test_opening_stock_as_json_lines(shop):
    text = (
        '{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 7}\n'
        '{"sku": "HOOD-GRE-L", "location": "WH-DAV", "quantity": "3"}\n'
    )

    job = imported("opening_stock", text, name="opening.jsonl")

    assert (job.status, job.rows_written) == ("done", 2)
    assert balance_of(shop["tee"], shop["store"]).on_hand == 7
    assert balance_of(shop["hoodie"], shop["warehouse"]).on_hand == 3


@pytest.mark.sqlite_too
def test_a_stocktake_file_posts_each_difference_as_a_count(shop):
    tee, hoodie, store = shop["tee"], shop["hoodie"], shop["store"]
    taken = timezone.now() - timedelta(hours=1)
    StockEvents.post(
        "receipt",
        sku=tee,
        location=store,
        quantity=10,
        occurred_at=taken - timedelta(1),
    )
    # A till sale after the count was taken, already in: it stays on top of it.
    StockEvents.post(
        "sale",
        sku=tee,
        location=store,
        quantity=1,
        channel=shop["pos"],
        occurred_at=taken + timedelta(minutes=5),
    )
    text = (
        "sku,location,counted,counted_at\n"
        f"TEE-BLK-M,LON-OXF,7,{taken.isoformat()}\n"
        "HOOD-GRE-L,LON-OXF,3,\n"
    )

    job = imported("counts", text, name="stocktake.csv")

    assert (job.status, job.rows_written) == ("done", 2)
    count = StockMovement.objects.get(reference=f"{prefix_of(text)}2")
    assert (count.type, count.quantity, count.on_hand_delta, count.reason) == (
        "count",
        7,
        -3,
        "Count imported from stocktake.csv",
    )
    assert balance_of(tee, store).on_hand == 6  # 7 counted, 1 sold since
    assert balance_of(hoodie, store).on_hand == 3
    assert balance_of(hoodie, store).last_count_at == job.created_at
    assert balances_rebuild(repair=False) == []

    exported = list(KINDS["counts"].export())
    assert [(row["sku"], row["location"], row["counted"]) for row in exported] == [
        ("HOOD-GRE-L", "LON-OXF", 3),
        ("TEE-BLK-M", "LON-OXF", 7),
    ]
    on_hand = {
        (row["sku"], row["location"]): row["quantity"]
        for row in KINDS["opening_stock"].export()
    }
    assert on_hand == {("HOOD-GRE-L", "LON-OXF"): 3, ("TEE-BLK-M", "LON-OXF"): 6}


def test_a_count_dated_tomorrow_is_wrong(shop):
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    text = f"sku,location,counted,counted_at\nTEE-BLK-M,LON-OXF,7,{tomorrow}\n"

    job = imported("counts", text)

    assert job.status == "refused"
    assert job.errors == [
        {"line": 2, "column": "counted_at", "message": "Lies in the future."}
    ]


@pytest.mark.django_db(transaction=True)
def test_a_till_selling_while_the_job_writes_loses_nothing():
    """A store's till sells a tee while the opening-stock job writes its page (real
    threads, each on its own connection): whichever takes the balance first, the
    other waits for its commit, and the ledger and the balances agree."""
    from inventory.services import staff_channel
    from tests.threads import all_at_once, every_row_slowed

    store = LocationFactory(code="LON-OXF")
    LocationFactory(code="WH-DAV", kind="warehouse")
    tee = SkuFactory(code="TEE-BLK-M")
    SkuFactory(code="HOOD-GRE-L")
    pos = ChannelFactory(code="pos", kind="store_pos")
    staff_channel()
    job, _ = import_job_create(
        kind="opening_stock",
        content=OPENING.encode(),
        file_name="o.csv",
        created_by=STOCK_CONTROLLER,
    )

    def work(n):
        if n == 0:
            return import_job_run(job_id=job.pk).status
        return StockEvents.post(
            "sale", sku=tee, location=store, quantity=1, channel=pos
        ).movement.status

    with every_row_slowed("inventory_stockmovement", "INSERT"):
        status, sale = all_at_once(2, work)

    assert sale == "applied"
    job.refresh_from_db()
    on_hand = balance_of(tee, store).on_hand
    if status == "refused":  # the sale before the check: the file is wrong there
        assert (job.rows_written, on_hand) == (0, -1)
    elif job.rows_written == 3:  # the file first, then the sale
        assert (status, on_hand, job.errors) == ("done", 11, [])
    else:  # the sale between the check and the write: the row left out, and said
        assert (status, job.rows_written, on_hand) == ("done", 2, -1)
    if on_hand == -1:
        assert job.errors[0]["line"] == 2
    assert balances_rebuild(repair=False) == []


class WorkerStopped(BaseException):
    """What a worker's end looks like to the job: nothing of its own catches it."""


def test_a_pair_counted_twice_across_a_cut_is_still_left_out(shop, settings):
    """A stocktake file names the tee at Oxford Street twice, once on each side of a
    page; the worker stops after the first page committed. Carried on, the job
    still leaves the second row out: the stock is the first row's count."""
    settings.IMPORT_PAGE_ROWS = 2
    text = (
        "sku,location,counted\n"
        "TEE-BLK-M,LON-OXF,7\n"
        "HOOD-GRE-L,LON-OXF,3\n"
        "TEE-BLK-M,LON-OXF,9\n"
    )
    job, _ = import_job_create(
        kind="counts",
        content=text.encode(),
        file_name="stocktake.csv",
        created_by=STOCK_CONTROLLER,
        skip_wrong_rows=True,
    )
    counts = type(KINDS["counts"])
    original = counts.write

    def write_then_stop(self, clean, *, job):
        if job.page_number == 2:
            raise WorkerStopped
        return original(self, clean, job=job)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(counts, "write", write_then_stop)
        with pytest.raises(WorkerStopped):
            import_job_run(job_id=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )

    done = import_job_run(job_id=job.pk)

    assert (done.status, done.rows_written, done.rows_wrong) == ("done", 2, 1)
    assert done.errors[0]["line"] == 4
    assert balance_of(shop["tee"], shop["store"]).on_hand == 7


def test_a_file_too_big_to_keep_checked_is_written_whole(shop, settings, monkeypatch):
    """Past KEEP_CHECKED_ROWS the write pass checks each page again: what the check
    pass learnt (the pairs seen) does not make every row look repeated."""
    from imports import services

    monkeypatch.setattr(services, "KEEP_CHECKED_ROWS", 1)
    settings.IMPORT_PAGE_ROWS = 2
    text = (
        "sku,location,counted\n"
        "TEE-BLK-M,LON-OXF,7\n"
        "HOOD-GRE-L,LON-OXF,3\n"
        "TEE-BLK-M,WH-DAV,9\n"
    )

    job = imported("counts", text)

    assert (job.status, job.rows_written, job.rows_wrong) == ("done", 3, 0)
    assert balance_of(shop["tee"], shop["warehouse"]).on_hand == 9
