"""``manage.py simulate``: a trading day driven through the real system, under one
policy or several compared, with a progress bar, a table at the end and a saved HTML
report with charts."""

import time
from pathlib import Path

import time_machine
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from simulation.config import (
    BUFFERS,
    COMPARISON,
    POS_SYNCS,
    RESERVE_AT,
    DayConfig,
    Policy,
    PolicyError,
)
from simulation.render import report_html, report_table
from simulation.services import simulation_compare


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
        parser.add_argument("--seed", type=int, default=day.seed)
        parser.add_argument("--stores", type=int, default=day.stores)
        parser.add_argument("--skus", type=int, default=day.skus)
        parser.add_argument("--hours", type=int, default=day.hours)
        parser.add_argument(
            "--till-rate",
            type=float,
            default=day.till_sales_per_store_hour,
            help="Walk-in till transactions per store per hour.",
        )
        parser.add_argument(
            "--online-rate",
            type=float,
            default=day.online_shoppers_per_hour,
            help="Online shoppers per hour across the network.",
        )
        parser.add_argument(
            "--pos-delay-median",
            type=float,
            default=day.pos_delay_median_s,
            help="Median seconds from a till sale to its event arriving (real time).",
        )
        parser.add_argument(
            "--pos-delay-p95",
            type=float,
            default=day.pos_delay_p95_s,
            help="95th percentile of that delay, in seconds (a lognormal).",
        )
        parser.add_argument(
            "--pos-duplicates",
            type=float,
            default=day.pos_duplicate_rate,
            help="Share of till events sent twice.",
        )
        parser.add_argument(
            "--days-of-cover",
            type=float,
            default=day.store_days_of_cover,
            help="Days of expected sales each store holds at opening.",
        )
        parser.add_argument("--shrink", type=float, default=day.shrink_rate)
        parser.add_argument("--count-errors", type=float, default=day.count_error_rate)
        policy = parser.add_mutually_exclusive_group()
        policy.add_argument(
            "--policy",
            action="append",
            default=[],
            metavar="SPEC",
            help=f"buffer={'|'.join(BUFFERS)},pos={'|'.join(POS_SYNCS)},"
            f"reserve={'|'.join(RESERVE_AT)}; repeat to compare. "
            "Default: buffer=1,pos=realtime,reserve=cart.",
        )
        policy.add_argument(
            "--compare",
            action="store_true",
            help="The standard comparison: buffers 0, 1, 2 and velocity; "
            "real-time, hourly and nightly till sync; hold at cart or at checkout.",
        )
        parser.add_argument(
            "--html",
            default="simulation-report.html",
            help="Where the HTML report is saved (default: %(default)s).",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        try:
            policies = (
                COMPARISON
                if options["compare"]
                else tuple(Policy.parse(text) for text in options["policy"])
                or (Policy(),)
            )
            config = DayConfig(
                seed=options["seed"],
                stores=options["stores"],
                skus=options["skus"],
                hours=options["hours"],
                till_sales_per_store_hour=options["till_rate"],
                online_shoppers_per_hour=options["online_rate"],
                pos_delay_median_s=options["pos_delay_median"],
                pos_delay_p95_s=options["pos_delay_p95"],
                pos_duplicate_rate=options["pos_duplicates"],
                store_days_of_cover=options["days_of_cover"],
                shrink_rate=options["shrink"],
                count_error_rate=options["count_errors"],
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
