"""A till batch lets its balances go before the disk is waited for, never the till:
by the time movements_record returns, the log is on disk past the batch's commit and
past the durable commit that follows it (the till marker's, or one log record)."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.access import Actor
from inventory.models import Location, StockMovement
from inventory.services import MovementInput, movements_record
from tests.factories import ChannelFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db(transaction=True)

AT = timezone.now() - timedelta(minutes=1)


@pytest.fixture
def store():
    return {
        "store": LocationFactory(code="LON-OXF", kind="store"),
        "tee": SkuFactory(code="TEE-BLK-M"),
        "pos": ChannelFactory(code="pos", kind="store_pos"),
        "erp": ChannelFactory(code="erp", kind="back_office"),
    }


def post(shop, channel, kind, reference, quantity):
    return movements_record(
        movements=[
            MovementInput(
                reference=reference,
                type=kind,
                sku=shop["tee"],
                location=shop["store"],
                quantity=quantity,
                occurred_at=AT,
                channel=shop[channel],
            )
        ],
        actor=Actor(name="test"),
    )


def wal_since(before: str) -> tuple[list[int], list[int]]:
    """The transactions committed in the log flushed since ``before``, in log order,
    and those that wrote a logical message."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xid::text::bigint, resource_manager, record_type FROM "
            "pg_get_wal_records_info(%s::pg_lsn, pg_current_wal_flush_lsn()) "
            "ORDER BY start_lsn",
            [before],
        )
        records = cursor.fetchall()
    commits = [xid for xid, _, kind in records if kind.startswith("COMMIT")]
    messages = [xid for xid, manager, _ in records if manager == "LogicalMessage"]
    return commits, messages


def insert_lsn() -> str:
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return cursor.fetchone()[0]


def written_by(model, pk) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT xmin::text::bigint FROM {model._meta.db_table} WHERE id = %s", [pk]
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    "channel, kind, durable_by",
    [
        ("pos", "receipt", "the till marker"),
        ("erp", "receipt", "a log record"),
    ],
)
def test_a_batch_on_its_own_is_on_disk_before_it_is_answered(
    store, channel, kind, durable_by
):
    before = insert_lsn()
    with CaptureQueriesContext(connection) as queries:
        [outcome] = post(store, channel, kind, "R-1", 5)
    batch = written_by(StockMovement, outcome.movement.pk)
    commits, messages = wal_since(before)
    assert batch in commits, "the batch was answered before it was on disk"
    sql = [query["sql"] for query in queries.captured_queries]
    assert "SET LOCAL synchronous_commit TO OFF" in sql
    # The log is the server's: the suite's other workers write messages in it too,
    # so whether this batch wrote one is asked of its own statements.
    emitted = any("pg_logical_emit_message" in statement for statement in sql)
    if durable_by == "the till marker":
        marker = written_by(Location, store["store"].pk)
        assert Location.objects.get(pk=store["store"].pk).pos_last_event_at
        assert commits.index(batch) < commits.index(marker)
        assert not emitted
    else:
        assert emitted
        after = [xid for xid in messages if xid in commits]
        assert any(commits.index(batch) < commits.index(xid) for xid in after)


def test_a_resent_batch_that_writes_nothing_waits_for_nothing(store):
    post(store, "erp", "receipt", "R-1", 5)
    with CaptureQueriesContext(connection) as queries:
        [outcome] = post(store, "erp", "receipt", "R-1", 5)
    assert outcome.outcome == "duplicate"
    assert not any("pg_logical_emit_message" in q["sql"] for q in queries)


def test_a_batch_inside_a_larger_transaction_leaves_the_disk_to_its_commit(store):
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        post(store, "pos", "receipt", "R-1", 5)
        post(store, "erp", "receipt", "R-2", 5)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "synchronous_commit TO OFF" not in sql
    assert "pg_logical_emit_message" not in sql
    assert Location.objects.get(pk=store["store"].pk).pos_last_event_at
