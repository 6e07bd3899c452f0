"""Where reads go, in-process: a second connection to the test database stands in for
a replica (the real thing: test_read_replicas.py)."""

import time

import pytest
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.views import APIView

from config import replicas
from inventory.models import Location
from inventory.selectors import source_states
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, StockEvents

# No transaction around each test: inside one, every read stays on the primary.
pytestmark = pytest.mark.django_db(transaction=True)

ALIAS = "replica_1"


@pytest.fixture
def replica(monkeypatch):
    """``replica_1``: the test database under a connection of its own, as a replica
    that answered its lag check a moment ago with none. Made by hand, not from the
    settings, so Django's test case lets it connect."""
    primary = connections[DEFAULT_DB_ALIAS]
    stand_in = primary.__class__(dict(primary.settings_dict), ALIAS)
    monkeypatch.setattr(django_settings, "READ_REPLICA_ALIASES", (ALIAS,))
    monkeypatch.setattr(connections._connections, ALIAS, stand_in, raising=False)
    # Fresh for the whole test however slowly a loaded machine runs it: a test that
    # is about the bounds sets its own, and says when the lag was asked.
    monkeypatch.setattr(django_settings, "READ_REPLICA_CHECK_SECONDS", 60)
    monkeypatch.setattr(django_settings, "READ_REPLICA_MAX_LAG_SECONDS", 60)
    replicas._seen[ALIAS] = replicas._Seen(time.monotonic(), 0.0)
    yield ALIAS
    replicas._seen.pop(ALIAS, None)
    stand_in.close()


def test_without_replicas_every_read_is_on_the_primary(rf):
    assert replicas.replica_aliases() == ()
    assert not [alias for alias in connections if alias != DEFAULT_DB_ALIAS]
    assert replicas.reading_alias() == DEFAULT_DB_ALIAS
    assert replicas.replica_for(rf.get("/")) is None


def test_a_read_inside_a_write_stays_on_the_primary(replica):
    token = replicas._reading.set(replica)
    try:
        assert replicas.reading_alias() == replica
        assert replicas.ReplicaRouter().db_for_read(Location) == replica
        with transaction.atomic():
            # A write's own reads, and its locks, see what it wrote.
            assert replicas.reading_alias() == DEFAULT_DB_ALIAS
            assert replicas.ReplicaRouter().db_for_read(Location) == DEFAULT_DB_ALIAS
        assert replicas.ReplicaRouter().db_for_write(Location) == DEFAULT_DB_ALIAS
    finally:
        replicas._reading.reset(token)


def test_replicas_are_never_migrated():
    router = replicas.ReplicaRouter()
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "inventory")
    assert not router.allow_migrate(ALIAS, "inventory")


def test_figures_that_may_be_older_than_the_bound_are_never_confirmed(
    replica, settings
):
    settings.READ_REPLICA_MAX_LAG_SECONDS = 1
    replicas._seen[replica] = replicas._Seen(time.monotonic(), 0.0)
    assert source_states(using=replica).late == frozenset()
    # Its lag was 0.4 s when asked, 0.8 s ago: its figures may be 1.2 s old.
    replicas._seen[replica] = replicas._Seen(time.monotonic() - 0.8, 0.4)
    assert replicas.replica_staleness(replica) > 1
    assert source_states(using=replica).late == frozenset(Location.Kind.values)
    # The primary's figures are current, whatever the replica's.
    assert source_states().late == frozenset()


def test_a_replica_behind_the_bound_or_unreachable_is_not_chosen(replica, settings, rf):
    settings.READ_REPLICA_MAX_LAG_SECONDS = 1
    request = rf.get("/")
    replicas._seen[replica] = replicas._Seen(time.monotonic(), 0.0)
    assert replicas.replica_for(request) == replica
    replicas._seen[replica] = replicas._Seen(time.monotonic(), 1.5)
    assert replicas.replica_for(request) is None
    replicas.replica_set_aside(replica)
    assert replicas.replica_for(request) is None


def test_a_replica_is_asked_its_lag_again_once_the_check_is_old(replica, settings, rf):
    settings.READ_REPLICA_CHECK_SECONDS = 0.5
    replicas._seen[replica] = replicas._Seen(time.monotonic() - 10, 99.0)
    # Asked again: the test database is no replica, so it has no lag at all.
    assert replicas.replica_for(rf.get("/")) == replica
    assert replicas._seen[replica].lag == 0


def test_an_api_read_is_answered_from_the_replica_it_chose(replica, shop):
    StockEvents.post("receipt", sku=shop["tee"], location=shop["oxford"], quantity=3)
    api = client_for(ApiTokenFactory.issue(name="shop", channel_code="web")[1])
    asked = {"sku": "TEE-BLK-M", "location": "LON-OXF"}
    with (
        CaptureQueriesContext(connections[replica]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        answer = api.get("/api/v1/availability/", asked)
    assert answer.status_code == 200, answer.content
    assert answer.json()["results"][0]["on_hand"] == 3
    # The records and the sources, the balances, the channel's terms there.
    assert len(on_replica) == 3
    # The primary: the token (its look-up and its last use), nothing of the read.
    assert not [q for q in on_primary if "inventory_stockbalance" in q["sql"]]


def test_a_writer_reads_from_the_primary_for_a_while(replica, shop, settings):
    settings.READ_YOUR_WRITES_SECONDS = 30
    api = client_for(ApiTokenFactory.issue(name="till", channel_code="web")[1])
    answer = api.post(
        "/api/v1/reservations/",
        {"reference": "CART-RYW", "lines": [
            {"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 1}]},
        format="json",
    )  # fmt: skip
    assert answer.status_code in (201, 409), answer.content
    with CaptureQueriesContext(connections[replica]) as on_replica:
        answer = api.get("/api/v1/availability/", {"sku": "TEE-BLK-M"})
    assert answer.status_code == 200
    assert len(on_replica) == 0
    other = client_for(ApiTokenFactory.issue(name="app", channel_code="web")[1])
    with CaptureQueriesContext(connections[replica]) as on_replica:
        other.get("/api/v1/availability/", {"sku": "TEE-BLK-M"})
    assert len(on_replica) > 0


class Failing(replicas.ReadsFromReplica, APIView):
    """A read that breaks after choosing its replica."""

    authentication_classes: list = []
    permission_classes: list = []
    seen: list = []

    def get(self, request):
        self.seen.append(replicas.reading_alias())
        raise RuntimeError("a bug, not the replica")


def test_a_read_that_fails_leaves_the_thread_on_the_primary(replica, rf):
    with pytest.raises(RuntimeError):
        Failing.as_view()(rf.get("/"))
    assert Failing.seen == [replica]
    # The thread's next request (gunicorn's threads serve many) starts afresh.
    assert replicas.reading_alias() == DEFAULT_DB_ALIAS


def test_a_replica_that_fails_mid_read_is_read_around(replica, shop, caplog):
    """The replica's connection breaks under the read: answered from the primary
    (chosen as fresh, its lag not asked first, which would find it broken)."""
    StockEvents.post("receipt", sku=shop["tee"], location=shop["oxford"], quantity=3)
    api = client_for(ApiTokenFactory.issue(name="shop", channel_code="web")[1])
    connections[replica].ensure_connection()
    connections[replica].connection.close()  # as a replica restarting would
    answer = api.get(
        "/api/v1/availability/", {"sku": "TEE-BLK-M", "location": "LON-OXF"}
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["results"][0]["on_hand"] == 3
    assert "failed, reading from the primary" in caplog.text
    assert replicas._seen[replica].lag is None  # set aside until it answers again
