"""Running simulated days: one policy's day on the current database, or several
policies, each on a scratch database of its own, so no run sees another's records
and none touches the real data."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections
from django.test.utils import override_settings

from .config import DayConfig, Policy
from .demand import demand_draw
from .engine import day_run
from .network import network_build, network_draw
from .report import DayReport, day_report

# Customers' emails are kept in memory: a simulated shopper has no inbox.
QUIET_EMAIL = "django.core.mail.backends.locmem.EmailBackend"


def simulation_day(
    *,
    config: DayConfig,
    policy: Policy,
    progress: Callable[[int, int, str], None] = lambda done, total, at: None,
) -> DayReport:
    """One trading day under ``policy`` on the current database, which should hold
    no other trade (a scratch database, or a test's)."""
    # A shopper refused or a hold that lapsed is a 409, the day's ordinary business;
    # the request log would print every one.
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    try:
        return _day(config=config, policy=policy, progress=progress)
    finally:
        request_log.setLevel(level)


def _day(*, config, policy, progress) -> DayReport:
    progress(0, 0, "network")
    spec = network_draw(config)
    demand = demand_draw(config=config, spec=spec)
    with override_settings(EMAIL_BACKEND=QUIET_EMAIL):
        network = network_build(spec=spec, policy=policy)
        result = day_run(
            config=config,
            policy=policy,
            network=network,
            demand=demand,
            progress=progress,
        )
        return day_report(result)


@contextmanager
def scratch_database(*, alias: str = "default") -> Iterator[str]:
    """A database made and migrated for one run, dropped after it: an in-memory one
    on SQLite, ``<name>_simulation`` on PostgreSQL."""
    connection = connections[alias]
    real_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        connection.settings_dict.setdefault("TEST", {})
        connection.settings_dict["TEST"]["NAME"] = f"{real_name}_simulation"
    name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(real_name, verbosity=0)


def simulation_compare(
    *,
    config: DayConfig,
    progress_for: Callable[[Policy, int], Callable[[int, int, str], None]],
) -> list[DayReport]:
    """Each of ``config.policies`` on the same network and the same shoppers."""
    reports = []
    for n, policy in enumerate(config.policies):
        with scratch_database():
            reports.append(
                simulation_day(
                    config=config, policy=policy, progress=progress_for(policy, n)
                )
            )
    return reports
