"""``manage.py reconcile``: run the nightly reconciliation now, with a progress bar."""

import getpass

from django.core.management.base import BaseCommand, CommandError

try:  # the progress bar is the tools extra's (pyproject.toml): a server may lack it
    from tqdm import tqdm
except ImportError:  # pragma: no cover (the tests install it)
    tqdm = None

from config.access import Actor
from reconciliation.models import ReconciliationRun
from reconciliation.services.runs import (
    RunInProgress,
    reconciliation_run_perform,
    reconciliation_run_start,
    reconciliation_run_stop,
)


class Command(BaseCommand):
    help = (
        "Compare every balance with the ledger (repairing and raising drift), then "
        "each channel's latest snapshot with the ledger as of its moment. Finishes a "
        "run left unfinished. Exits with status 1 if the run fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (for logs)."
        )

    def handle(self, *args, no_progress: bool = False, **options):
        # The person at the terminal, by their login, as the run's page shows them.
        actor = Actor(name=f"command:{getpass.getuser()}", source="system")
        try:
            run = reconciliation_run_start(
                trigger=ReconciliationRun.Trigger.COMMAND, actor=actor
            )
        except RunInProgress as refused:
            raise CommandError(refused.message) from None
        if run.resumed:
            self.stdout.write(f"Finishing run {run.pk}, left unfinished.")
        bar = (
            _NoBar()
            if tqdm is None or no_progress
            else tqdm(
                total=None,
                unit=" rows",
                unit_scale=True,
                desc="ledger",
                file=self.stderr._out,
            )
        )
        try:
            run = reconciliation_run_perform(
                run_id=run.pk, progress=lambda now: _show(bar, now)
            )
        except KeyboardInterrupt:
            reconciliation_run_stop(
                run_id=run.pk, reason="Interrupted (Ctrl-C).", actor=actor
            )
            raise CommandError(
                f"Run {run.pk} interrupted; `manage.py reconcile` finishes it."
            ) from None
        finally:
            bar.close()
        self.stdout.write(_summary(run))
        if run.status != ReconciliationRun.Status.FINISHED:
            raise CommandError(f"Run {run.pk} failed: {run.error}")


class _NoBar:
    """Where there is no progress bar to draw: what the run's progress sets, unseen."""

    total = n = None

    def set_description(self, text: str) -> None: ...

    def refresh(self) -> None: ...

    def close(self) -> None: ...


def _show(bar, run: ReconciliationRun) -> None:
    bar.total = run.progress_total or None
    bar.n = run.progress_done
    bar.set_description(run.get_phase_display())
    bar.refresh()


def _summary(run: ReconciliationRun) -> str:
    took = f" in {run.duration_seconds:.1f} s" if run.duration_seconds else ""
    return (
        f"Run {run.pk} {run.status}{took}: {run.entries_checked:,} ledger entries and "
        f"{run.balances_checked:,} balances checked, {run.drift_found} drifted; "
        f"{run.snapshots_compared} snapshot(s), {run.snapshot_rows_checked:,} rows, "
        f"{run.disagreements_found} disagreeing."
    )
