"""``manage.py simulate`` as a head of operations runs it: policies compared on a
scratch database each, the same seed giving the same day, a table and a saved page
that loads nothing from the internet, and plain words for a policy it does not know."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Sku
from simulation.config import DayConfig, Policy, PolicyError
from simulation.demand import demand_draw
from simulation.network import network_draw
from simulation.report import FIGURES

TINY = [
    "--seed", "11", "--stores", "2", "--skus", "20", "--hours", "2",
    "--online-rate", "30", "--days-of-cover", "0.6", "--no-progress",
]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_gives_the_same_day_on_scratch_databases(tmp_path):
    page = tmp_path / "report.html"
    out = StringIO()
    skus_before = Sku.objects.count()
    call_command(
        "simulate", *TINY, "--policy", "buffer=0", "--policy", "buffer=0",
        "--html", str(page), stdout=out,
    )  # fmt: skip
    table = out.getvalue()
    figures = {}
    for key, label, _, _ in FIGURES:
        line = next(line for line in table.splitlines() if line.startswith(label))
        figures[key] = line[len(label) :].split("  ")
        figures[key] = [cell.strip() for cell in figures[key] if cell.strip()]
    # Two runs of one policy on one seed: every figure the same.
    assert figures["orders_placed"][0] != "0"
    assert all(len(cells) == 2 for cells in figures.values()), figures
    assert all(first == second for first, second in figures.values()), figures
    assert "#1 arithmetic: all checks pass" in table
    assert "#2 arithmetic: all checks pass" in table
    # Each day ran on a scratch database: nothing of it is left in this one.
    assert Sku.objects.count() == skus_before
    html = page.read_text()
    assert "Cancellations caused by stock" in html and "Oversells" in html
    # A page to mail or open anywhere: nothing is fetched from elsewhere.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_a_policy_it_does_not_know_is_named_plainly():
    with pytest.raises(CommandError, match="buffer must be one of 0, 1, 2, velocity"):
        call_command("simulate", "--policy", "buffer=3", stdout=StringIO())
    with pytest.raises(CommandError, match="say buffer="):
        call_command("simulate", "--policy", "speed=fast", stdout=StringIO())
    with pytest.raises(CommandError, match="stores must be at least 1"):
        call_command("simulate", "--stores", "0", stdout=StringIO())
    with pytest.raises(CommandError, match="shrink_rate must be between 0 and 1"):
        call_command("simulate", "--shrink", "1.5", stdout=StringIO())


def test_policies_read_as_people_write_them():
    assert Policy.parse("buffer=velocity, pos=hourly, reserve=checkout") == Policy(
        buffer="velocity", pos_sync="hourly", reserve_at="checkout"
    )
    assert Policy.parse("") == Policy()
    with pytest.raises(PolicyError):
        Policy.parse("pos=weekly")


def test_the_network_and_its_shoppers_are_drawn_from_the_seed_alone():
    config = DayConfig(seed=5, stores=3, skus=50, hours=2)
    first, again = network_draw(config), network_draw(config)
    assert first == again
    assert demand_draw(config=config, spec=first) == demand_draw(
        config=config, spec=again
    )
    other = network_draw(DayConfig(seed=6, stores=3, skus=50, hours=2))
    assert other.opening_stock != first.opening_stock


def test_sales_speeds_have_a_long_tail_and_the_velocity_buffer_follows_them():
    spec = network_draw(DayConfig(seed=1, stores=20, skus=2000))
    rates = sorted((sku.store_rate for sku in spec.skus), reverse=True)
    top_tenth = sum(rates[:200]) / sum(rates)
    assert top_tenth > 0.4, "a few fast movers sell a large share"
    buffers = [sku.velocity_buffer for sku in spec.skus]
    assert buffers.count(0) > len(buffers) / 2, "most slow movers keep nothing back"
    assert max(buffers) >= 2
    fastest, slowest = spec.skus[0], spec.skus[-1]
    assert fastest.velocity_buffer > slowest.velocity_buffer == 0
