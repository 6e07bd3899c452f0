"""``manage.py simulate``: a trading day driven through the real system, under one
policy or several compared, with a progress bar, a table at the end and a saved HTML
report with charts."""

import time
import warnings
from pathlib import Path

import time_machine
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from simulation.config import (
    ALLOCATION_CHANNELS,
    BUFFERS,
    COMPARISON,
    POS_SYNCS,
    RESERVE_AT,
    TRANSFERS,
    DayConfig,
    Policy,
    PolicyError,
)
from simulation.render import report_html, report_table
from simulation.services import simulation_compare

# The day's settings a run may change: (flag, DayConfig field, type, help).
DAY_OPTIONS = [
    ("--seed", "seed", int, "The same seed gives the same day."),
    ("--stores", "stores", int, "Stores in the network."),
    ("--skus", "skus", int, "SKUs in the catalogue."),
    ("--hours", "hours", int, "Hours of trading, from 08:00 UTC."),
    ("--till-rate", "till_sales_per_store_hour", float, "Till sales a store an hour."),
    (
        "--online-rate",
        "online_shoppers_per_hour",
        float,
        "Online shoppers an hour across the network.",
    ),
    (
        "--pos-delay-median",
        "pos_delay_median_s",
        float,
        "Median seconds from a till sale to its event arriving, in real time.",
    ),
    (
        "--pos-delay-p95",
        "pos_delay_p95_s",
        float,
        "95th percentile of that delay, in seconds (a lognormal).",
    ),
    (
        "--pos-duplicates",
        "pos_duplicate_rate",
        float,
        "Share of till events sent twice.",
    ),
    (
        "--days-of-cover",
        "store_days_of_cover",
        float,
        "Days of expected sales each store holds at opening.",
    ),
    (
        "--overstock",
        "overstock_share",
        float,
        "Share of SKU-stores opening overstocked (60 to 120 days of sales).",
    ),
    (
        "--understock",
        "understock_share",
        float,
        "Share of SKU-stores opening understocked (under a day of sales).",
    ),
    ("--shrink", "shrink_rate", float, "Units lost unrecorded, a share of till sales."),
    ("--count-errors", "count_error_rate", float, "Chance a counter miscounts a line."),
    (
        "--cancel-rate",
        "customer_cancel_rate",
        float,
        "Share of orders customers cancel.",
    ),
]


def real_time() -> float:
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()


class Command(BaseCommand):
    help = (
        "Simulate a trading day against the real system on a scratch database (your "
        "data is never touched) and report orders, oversells, cancellations, lost "
        "sales, pickups on time, record accuracy and exceptions for each policy."
    )

    def add_arguments(self, parser):
        day = DayConfig()
        for flag, name, kind, text in DAY_OPTIONS:
            parser.add_argument(
                flag,
                dest=name,
                type=kind,
                metavar="N",
                default=getattr(day, name),
                help=f"{text} (default: %(default)s)",
            )
        policy = parser.add_mutually_exclusive_group()
        policy.add_argument(
            "--policy",
            action="append",
            default=[],
            metavar="SPEC",
            help=f"buffer={'|'.join(BUFFERS)},pos={'|'.join(POS_SYNCS)},"
            f"reserve={'|'.join(RESERVE_AT)},"
            f"allocation=none|N|{'|'.join(ALLOCATION_CHANNELS)}:N "
            "(N units of every SKU protected for the channel; a bare N for the "
            f"{ALLOCATION_CHANNELS[0]}),transfers={'|'.join(TRANSFERS)}|on:COST "
            "(the manager approves the transfer proposals before opening; with "
            "COST only those costing at most that a unit saved); repeat to "
            "compare. Default: buffer=velocity,pos=realtime,reserve=cart,"
            "allocation=none,transfers=off.",
        )
        policy.add_argument(
            "--compare",
            action="store_true",
            help="The standard comparison: buffers 0, 1, 2 and velocity; "
            "real-time, hourly and nightly till sync; hold at cart or at checkout; "
            "a unit of every SKU protected for the marketplace or for the tills.",
        )
        parser.add_argument(
            "--html",
            default="simulation-report.html",
            help="Where the HTML report is saved (default: %(default)s).",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        # WhiteNoise's warning about uncollected static files means nothing here.
        warnings.filterwarnings("ignore", message="No directory at")
        try:
            policies = (
                COMPARISON
                if options["compare"]
                else tuple(Policy.parse(text) for text in options["policy"])
                or (Policy(),)
            )
            config = DayConfig(
                **{name: options[name] for _, name, _, _ in DAY_OPTIONS},
                policies=policies,
            )
            config.check()
        except (PolicyError, ValueError) as error:
            raise CommandError(str(error)) from None

        def progress_for(policy, n):
            if options["no_progress"]:
                return lambda done, total, at: None
            bar = tqdm(
                desc=f"{n + 1}/{len(policies)} {policy.label}",
                unit=" events",
                file=self.stderr._out,
                dynamic_ncols=True,
            )
            # The day runs on a travelling clock; the bar keeps the real one.
            bar._time = real_time

            def update(done, total, at):
                bar.total = total or None
                bar.set_postfix_str(at, refresh=False)
                bar.update(done - bar.n)
                if at == "night":
                    bar.close()

            return update

        reports = simulation_compare(config=config, progress_for=progress_for)
        self.stdout.write(report_table(reports, config=config))
        path = Path(options["html"])
        path.write_text(report_html(reports, config=config), encoding="utf-8")
        self.stdout.write(f"HTML report: {path.resolve()}")
        failed = [
            f"{report.policy}: {check.name} ({check.detail})"
            for report in reports
            for check in report.checks
            if not check.passed
        ]
        if failed:
            raise CommandError("The report's arithmetic failed:\n" + "\n".join(failed))
