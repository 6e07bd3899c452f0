"""A job's life: cut off half-way and carried on after its last written page, left
queued and handed on by beat's sweep, taken over from a worker fallen silent, failed
when something breaks; and when the same file is the same import."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from config.access import Actor
from imports.kinds import KINDS
from imports.kinds.base import RowError
from imports.models import ImportJob
from imports.services import import_job_create, import_job_run, import_jobs_sweep
from reconciliation.models import StockSnapshot
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, ChannelFactory

from .conftest import run, upload

pytestmark = pytest.mark.django_db

ERP = Actor(name="token:erp", source="integration")
FILE = b"code,name\nA,a\nB,b\nC,c\nD,d\n"


class WorkerStopped(BaseException):
    """What a worker's end looks like to the job: nothing of its own catches it."""


def test_a_job_cut_off_carries_on_after_its_last_written_page(settings, monkeypatch):
    settings.IMPORT_PAGE_ROWS = 2
    job, created = import_job_create(
        kind="products", content=FILE, file_name="p.csv", created_by=ERP
    )
    products = KINDS["products"]
    writes = []
    original = type(products).write

    def write_then_stop(self, clean, *, job):
        writes.append([code for _, code, _ in clean])
        if len(writes) == 2:
            raise WorkerStopped
        return original(self, clean, job=job)

    monkeypatch.setattr(type(products), "write", write_then_stop)
    with pytest.raises(WorkerStopped):
        import_job_run(job_id=job.pk)
    cut_off = ImportJob.objects.get(pk=job.pk)
    assert (cut_off.status, cut_off.pages_written, cut_off.rows_written) == (
        "writing",
        1,
        2,
    )
    assert import_job_run(job_id=job.pk).status == "writing"  # still its worker's
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )

    done = import_job_run(job_id=job.pk)

    assert created
    assert (done.status, done.pages_written, done.rows_written) == ("done", 2, 4)
    assert writes == [["A", "B"], ["C", "D"], ["C", "D"]]
    assert Product.objects.count() == 4
    assert [event.action for event in done.events.all()] == [
        "import_job_create",
        "import_job_check",
        "import_job_write",
        "import_job_resume",
        "import_job_done",
    ]


def test_the_sweep_hands_on_a_job_left_queued(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    job, _ = import_job_create(
        kind="products", content=FILE, file_name="p.csv", created_by=ERP
    )  # its kick waits for a commit that never comes in this test
    assert import_jobs_sweep() == 0  # queued a moment ago: its kick may yet come
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )

    from config.celery import app

    app.conf.task_always_eager = True
    try:
        assert import_jobs_sweep() == 1
    finally:
        app.conf.task_always_eager = False

    assert ImportJob.objects.get(pk=job.pk).status == "done"
    assert Product.objects.count() == 4


def test_a_job_whose_kind_breaks_fails_saying_why(monkeypatch):
    job, _ = import_job_create(
        kind="products", content=FILE, file_name="p.csv", created_by=ERP
    )

    def broken(self, clean, *, job):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(KINDS["products"]), "write", broken)
    failed = import_job_run(job_id=job.pk)

    assert failed.status == "failed"
    assert failed.message == "RuntimeError: disk full"
    again, created = import_job_create(
        kind="products", content=FILE, file_name="p.csv", created_by=ERP
    )
    assert created  # a failed file may be sent again


def test_rows_a_write_leaves_out_are_reported_with_the_others(monkeypatch):
    """A kind whose write finds a row changed since the check leaves it out and says
    so; the job ends done, the row counted and named in its report."""
    job, _ = import_job_create(
        kind="products", content=FILE, file_name="p.csv", created_by=ERP
    )
    products = type(KINDS["products"])
    original = products.write

    def write_all_but_b(self, clean, *, job):
        kept = [row for row in clean if row[1] != "B"]
        job.scratch.setdefault("write_errors", []).append(
            RowError(3, None, "B changed since the check.")
        )
        return original(self, kept, job=job)

    monkeypatch.setattr(products, "write", write_all_but_b)
    done = import_job_run(job_id=job.pk)

    assert (done.status, done.rows_written, done.rows_wrong) == ("done", 3, 1)
    assert done.errors == [
        {"line": 3, "column": None, "message": "B changed since the check."}
    ]


def test_the_same_file_from_two_channels_is_two_imports(shop):
    """The web shop and the tills send the same snapshot file (the same bytes): each
    channel's job is its own, and each channel's snapshot is written."""
    ChannelFactory(code="pos")
    taken_at = (timezone.now() - timedelta(hours=1)).isoformat()
    text = f"snapshot_id,taken_at,sku,location,on_hand\nD-1,{taken_at},TEE-BLK-M,LON-OXF,5\n"
    _, web_token = ApiTokenFactory.issue(name="shopify", channel_code="web")
    _, till_token = ApiTokenFactory.issue(name="till", channel_code="pos")
    web = upload(client_for(web_token), "snapshots", text)
    run(web)

    till = upload(client_for(till_token), "snapshots", text)

    assert till.status_code == 202
    assert till.json()["id"] != web.json()["id"]
    assert run(till).status == "done"
    assert sorted(StockSnapshot.objects.values_list("channel__code", flat=True)) == [
        "pos",
        "web",
    ]


def test_a_file_sent_again_the_next_day_is_imported_again(api, settings):
    """The ERP's product file, sent again to undo edits made by hand since: within
    the idempotency window it is the same import, after it a new one."""
    settings.IDEMPOTENCY_KEY_HOURS = 24
    text = "code,name\nP-9,Original name\n"
    first = upload(api, "products", text)
    run(first)
    Product.objects.filter(code="P-9").update(name="Changed by hand")

    again_at_once = upload(api, "products", text)
    ImportJob.objects.filter(pk=first.json()["id"]).update(
        finished_at=timezone.now() - timedelta(hours=25)
    )
    next_day = upload(api, "products", text)

    assert (again_at_once.status_code, again_at_once.json()["id"]) == (
        200,
        first.json()["id"],
    )
    assert next_day.status_code == 202
    assert run(next_day).status == "done"
    assert Product.objects.get(code="P-9").name == "Original name"


def test_a_worker_whose_job_was_taken_over_leaves_it_alone(settings, monkeypatch):
    """A worker falls silent in the check pass for longer than STALE_SECONDS; the
    sweep's worker takes the job over and finishes it. When the first one wakes up
    it stops: the done job is not moved back to writing, nothing is written twice."""
    settings.IMPORT_PAGE_ROWS = 2
    job, _ = import_job_create(
        kind="products", content=FILE, file_name="p.csv", created_by=ERP
    )
    products = type(KINDS["products"])
    original = products.check
    taken_over = []

    def check_then_fall_silent(self, rows, *, job):
        if not taken_over:
            taken_over.append(True)
            ImportJob.objects.filter(pk=job.pk).update(
                heartbeat_at=timezone.now() - timedelta(minutes=5)
            )
            assert import_job_run(job_id=job.pk).status == "done"  # the other worker
        return original(self, rows, job=job)

    monkeypatch.setattr(products, "check", check_then_fall_silent)
    woken = import_job_run(job_id=job.pk)

    assert (woken.status, woken.rows_written) == ("done", 4)
    assert [event.action for event in woken.events.all()] == [
        "import_job_create",
        "import_job_check",
        "import_job_resume",
        "import_job_write",
        "import_job_done",
    ]
