"""Protected allocations in the simulator: ``--policy allocation=...`` read as people
write it (and refused plainly when it is not), the units protected for the right
channel at the locations it sells from, and a small day under protection that shows
what it cost the other channels."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from config.access import Actor
from inventory.models import Allocation
from simulation.config import Policy, PolicyError
from simulation.network import WAREHOUSE, network_build, network_draw
from simulation.report import FIGURES
from simulation.services import simulation_day

from .test_simulated_day import TINY


def test_an_allocation_reads_as_a_manager_writes_it():
    assert Policy.parse("allocation=2") == Policy(allocation="marketplace:2")
    assert Policy.parse("buffer=0, allocation=POS:1") == Policy(
        buffer="0", allocation="pos:1"
    )
    assert Policy.parse("allocation=none") == Policy() == Policy.parse("")
    protected = Policy.parse("allocation=web:3")
    assert (protected.allocation_channel, protected.allocation_units) == ("web", 3)
    assert protected.label.endswith(", 3 protected for web")
    assert Policy().label == "buffer velocity, POS realtime, hold at cart"


@pytest.mark.parametrize(
    "spec", ["allocation=0", "allocation=wms:1", "allocation=web:", "allocation=100"]
)
def test_an_allocation_it_cannot_make_is_named_plainly(spec):
    with pytest.raises(PolicyError, match="allocation must be none, N or CHANNEL:N"):
        Policy.parse(spec)
    with pytest.raises(CommandError, match="CHANNEL one of marketplace, web, app, pos"):
        call_command("simulate", "--policy", spec, stdout=StringIO())


@pytest.mark.django_db
def test_the_marketplace_is_protected_where_its_orders_are_routed():
    """Two units of every SKU at the warehouse and the store that ships (one store in
    four), for the marketplace alone; the store that does not ship protects nothing."""
    spec = network_draw(TINY)
    network = network_build(spec=spec, policy=Policy(allocation="2"))

    rows = Allocation.objects.select_related("channel", "sku", "location")
    assert {row.channel.code for row in rows} == {"marketplace"}
    assert {row.units for row in rows} == {2}
    shipping = {WAREHOUSE} | {s.code for s in spec.stores if s.ships}
    assert shipping == {WAREHOUSE, "ST01"}
    assert {(row.sku.code, row.location.code) for row in rows} == {
        (sku.code, place) for sku in spec.skus for place in shipping
    }
    # Set by the area manager through the allocations service, as the API does.
    assert {row.updated_by for row in rows} == {Actor.of_user(network.manager).name}


@pytest.mark.django_db
def test_units_kept_for_the_tills_are_kept_at_every_store_and_nowhere_else():
    spec = network_draw(TINY)
    network_build(spec=spec, policy=Policy(allocation="pos:1"))

    places = set(Allocation.objects.values_list("location__code", flat=True))
    assert places == {store.code for store in spec.stores}
    assert Allocation.objects.count() == len(spec.skus) * len(spec.stores)


@pytest.mark.django_db
def test_no_allocation_writes_none():
    network_build(spec=network_draw(TINY), policy=Policy())
    assert not Allocation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_day_with_units_kept_for_the_marketplace_shows_what_the_web_lost():
    """With no buffer, nothing but the protection can refuse a unit the system has:
    every unit lost is one the web shop or the app was refused because it was kept for
    the marketplace, and the marketplace itself loses none."""
    report = simulation_day(
        config=TINY, policy=Policy(buffer="0", allocation="marketplace:1")
    )
    figures = report.figures

    assert report.policy.endswith("1 protected for marketplace")
    assert report.passed, [c for c in report.checks if not c.passed]
    assert figures["orders_placed"] > 0
    assert figures["lost_sales_units"] > 0
    assert figures["lost_sales_units_marketplace"] == 0
    assert (
        figures["lost_sales_units_web"] + figures["lost_sales_units_app"]
        == figures["lost_sales_units"]
    )
    assert (
        sum(figures[f"refused_units_{c}"] for c in ("web", "app", "marketplace"))
        == (figures["refused_units"])
    )
    # Every per-channel row the table shows has its figure.
    assert all(key in figures for key, _, _, _ in FIGURES)
