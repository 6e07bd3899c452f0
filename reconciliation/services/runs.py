"""The nightly reconciliation: every balance against the ledger, then each channel's
latest snapshot against the ledger as of the snapshot's moment.

A run is stored (``ReconciliationRun``) and goes in steps, each its own transaction
that also records the run's progress: the ledger check is one step (one set-based
statement over the whole ledger, see ``inventory.services.balances_rebuild``); a
snapshot is compared ``RECONCILIATION_CHUNK_ROWS`` rows at a time. A run cut off
half-way (an error, a worker killed) is finished by the next start, from the step it
stopped at, so nothing is repaired or raised twice. One run at a time: a start while
another is alive is refused; one whose heartbeat stopped is taken over. Every start,
stop and resume moves the run through ``config.transitions`` onto its timeline
(``ReconciliationRunEvent``), which the run's page shows as its history.
"""

from collections.abc import Callable
from dataclasses import asdict

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from catalog.models import Sku
from config import transitions
from config.access import Actor
from config.errors import Conflict
from inventory.models import Location, StockBalance, StockMovement

from ..models import (
    ExceptionCase,
    ExceptionKind,
    ReconciliationRun,
    ReconciliationRunEvent,
    StockSnapshot,
    StockSnapshotRow,
)
from ..tolerance import within_tolerance
from .checks import ledger_drift_found
from .exceptions import Raised, exception_raise, exception_settle

Run = ReconciliationRun
Status, Phase = Run.Status, Run.Phase
Kind = ReconciliationRunEvent.Kind
SYSTEM = Actor.system("reconciliation")
# What a run's page lists of the rows it found; the counts are always whole.
REPORT_ROWS = 500

Progress = Callable[[ReconciliationRun], None]


class RunInProgress(Conflict):
    code = "reconciliation_running"


class RunTransitionRefused(transitions.TransitionRefused):
    code = "reconciliation_transition_refused"


def reconciliation_run_start(*, trigger: str, actor: Actor) -> ReconciliationRun:
    """A new run, or the one left unfinished taken up again where it stopped."""
    now = timezone.now()
    with transaction.atomic():
        unfinished = (
            Run.objects.select_for_update(no_key=True)
            .filter(status__in=[Status.RUNNING, Status.FAILED])
            .first()
        )
        if unfinished is not None:
            if unfinished.status == Status.RUNNING and not unfinished.stalled:
                raise RunInProgress(
                    f"Run {unfinished.pk} is still going (last step "
                    f"{unfinished.heartbeat_at:%H:%M:%S}); wait for it to finish."
                )
            if unfinished.resumed >= settings.RECONCILIATION_MAX_RESUMES:
                # The same error every time: a new run must still check tonight.
                _abandon(unfinished, actor, now)
            else:
                _move(unfinished, Status.RUNNING, actor, now, Kind.RESUMED)
                unfinished.resumed += 1
                unfinished.heartbeat_at, unfinished.error = now, ""
                # The ledger is checked again (the balances may have drifted since,
                # and snapshots are compared with them); the snapshot comparison
                # goes on from its checkpoint.
                unfinished.phase = Phase.LEDGER
                unfinished.save()
                return unfinished
        try:
            with transaction.atomic():
                run = Run.objects.create(
                    trigger=trigger,
                    started_by=actor.name,
                    started_at=now,
                    heartbeat_at=now,
                )
        except IntegrityError:
            raise RunInProgress("Another run has just started.") from None
        transitions.record_event(
            run,
            actor=actor,
            action=ACTIONS[Kind.STARTED],
            at=now,
            to_status=Status.RUNNING,
            kind=Kind.STARTED,
        )
        return run


def _abandon(run: ReconciliationRun, actor: Actor, now) -> None:
    """The new run compares a half-compared snapshot from its first row again, so
    the count of its disagreements starts again too."""
    _move(run, Status.ABANDONED, actor, now, Kind.ABANDONED)
    if run.checkpoint.get("snapshot"):
        StockSnapshot.objects.filter(pk=run.checkpoint["snapshot"]).update(
            disagreements=0
        )


def reconciliation_run_perform(
    *, run_id: int, progress: Progress | None = None
) -> ReconciliationRun:
    """Take the run through its remaining steps. An error stops it as ``failed``
    (with the error kept for its page) rather than escaping: the next start finishes
    it."""
    tell = progress or (lambda run: None)
    try:
        while (run := _step(run_id)).status == Status.RUNNING:
            tell(run)
    except Exception as error:
        run = _fail(run_id, error)
    tell(run)
    return run


def reconciliation_run_stop(*, run_id: int, reason: str, actor: Actor) -> None:
    """Mark a run stopped from outside (the command interrupted with Ctrl-C, no
    worker reachable): the next start finishes it."""
    with transaction.atomic():
        run = transitions.lock(Run, run_id)
        if run.status == Status.RUNNING:
            run.error = reason
            _move(run, Status.FAILED, actor, timezone.now(), Kind.INTERRUPTED, reason)
            run.save()


def _step(run_id: int) -> ReconciliationRun:
    """One step, in one transaction with the run's progress."""
    with transaction.atomic():
        run = transitions.lock(Run, run_id)
        if run.status != Status.RUNNING:
            return run
        if run.phase == Phase.LEDGER:
            _check_ledger(run)
        elif run.phase == Phase.SNAPSHOTS:
            _compare_next_rows(run)
        if run.phase == Phase.DONE:
            run.finished_at = timezone.now()
            _move(
                run,
                Status.FINISHED,
                Actor.recorded(run.started_by),
                run.finished_at,
                Kind.FINISHED,
            )
        run.heartbeat_at = timezone.now()
        run.save()
        return run


def _fail(run_id: int, error: Exception) -> ReconciliationRun:
    with transaction.atomic():
        run = transitions.lock(Run, run_id)
        if run.status == Status.RUNNING:
            run.error = f"{type(error).__name__}: {error}"[:2000]
            _move(run, Status.FAILED, SYSTEM, timezone.now(), Kind.FAILED, run.error)
            run.save()
        return run


# The timeline's key for each kind of step.
ACTIONS = {
    Kind.STARTED: "reconciliation_run_start",
    Kind.RESUMED: "reconciliation_run_resume",
    Kind.FAILED: "reconciliation_run_fail",
    Kind.INTERRUPTED: "reconciliation_run_stop",
    Kind.ABANDONED: "reconciliation_run_abandon",
    Kind.FINISHED: "reconciliation_run_finish",
}


def _move(
    run: ReconciliationRun, to: str, actor: Actor, now, kind: str, note: str = ""
) -> None:
    """The run's new status written and on its timeline; the caller saves the rest
    of the step with it."""
    transitions.move(
        run,
        to=to,
        actor=actor,
        action=ACTIONS[kind],
        at=now,
        note=note,
        error=RunTransitionRefused,
        refused=f"A {run.status} run cannot become {to}.",
        kind=kind,
    )


# ---------------------------------------------------------------- the ledger


def _check_ledger(run: ReconciliationRun) -> None:
    """Every balance against the ledger. Again on a resumed run: what it found the
    first time is kept, and added to."""
    run.entries_checked = StockMovement.objects.count()
    run.balances_checked = StockBalance.objects.count()
    drifted = ledger_drift_found(repair=True)
    run.drift_found += len(drifted)
    earlier = run.report.get("drift", [])
    run.report = {
        **run.report,
        "drift": earlier + [asdict(d) for d in drifted[: REPORT_ROWS - len(earlier)]],
    }
    kept = run.checkpoint.get("snapshot")
    pending = _pending_snapshots(keep=kept)
    rows_left = sum(s.rows_received for s in pending if s.pk != kept)
    if kept:
        rows_left += StockSnapshotRow.objects.filter(
            snapshot_id=kept, id__gt=run.checkpoint.get("after_row", 0)
        ).count()
    run.progress_done = run.entries_checked + run.snapshot_rows_checked
    run.progress_total = run.progress_done + rows_left
    run.phase = Phase.SNAPSHOTS


# ------------------------------------------------------------- the snapshots


def _pending_snapshots(keep: int | None = None) -> list[StockSnapshot]:
    """Each channel's latest complete snapshot, if no later one was compared; the
    older complete ones are superseded (their figures are already out of date), all
    but ``keep``, the one a resumed run is half-way through. Only the snapshots read
    here are superseded: one completed meanwhile waits for the next look."""
    complete = StockSnapshot.Status.COMPLETE
    seen = list(
        StockSnapshot.objects.filter(status=complete).only(
            "channel_id", "taken_at", "rows_received"
        )
    )
    latest_compared = dict(
        StockSnapshot.objects.filter(status=StockSnapshot.Status.COMPARED)
        .values("channel_id")
        .annotate(at=Max("taken_at"))
        .values_list("channel_id", "at")
    )
    latest: dict[int, StockSnapshot] = {}
    for snapshot in sorted(seen, key=lambda s: (s.taken_at, s.pk), reverse=True):
        compared = latest_compared.get(snapshot.channel_id)
        if compared is None or snapshot.taken_at > compared:
            latest.setdefault(snapshot.channel_id, snapshot)
    pending = list(latest.values())
    stale = {s.pk for s in seen} - {s.pk for s in pending} - {keep}
    StockSnapshot.objects.filter(pk__in=stale, status=complete).update(
        status=StockSnapshot.Status.SUPERSEDED
    )
    return sorted(pending, key=lambda s: (s.taken_at, s.pk))


def _compare_next_rows(run: ReconciliationRun) -> None:
    snapshot = _current_snapshot(run)
    if snapshot is None:
        run.phase, run.checkpoint = Phase.DONE, {}
        return
    after = run.checkpoint.get("after_row", 0)
    limit = settings.RECONCILIATION_CHUNK_ROWS
    rows = _rows_with_ledger(snapshot, after, limit)
    found = _disagreements(snapshot, rows)
    _raise_and_settle(run, snapshot, rows, found)
    run.snapshot_rows_checked += len(rows)
    run.progress_done += len(rows)
    run.disagreements_found += len(found)
    StockSnapshot.objects.filter(pk=snapshot.pk).update(
        disagreements=F("disagreements") + len(found)
    )
    if len(rows) < limit:
        StockSnapshot.objects.filter(pk=snapshot.pk).update(
            status=StockSnapshot.Status.COMPARED,
            compared_at=timezone.now(),
            compared_in=run,
        )
        run.snapshots_compared += 1
        run.checkpoint = {}
        _raise_beyond_the_cases(run, snapshot, snapshot.disagreements + len(found))
    else:
        run.checkpoint = {"snapshot": snapshot.pk, "after_row": rows[-1][0]}


def _current_snapshot(run: ReconciliationRun) -> StockSnapshot | None:
    if run.checkpoint.get("snapshot"):
        return StockSnapshot.objects.get(pk=run.checkpoint["snapshot"])
    pending = _pending_snapshots()
    return pending[0] if pending else None


def _rows_with_ledger(snapshot: StockSnapshot, after: int, limit: int) -> list[tuple]:
    """(row id, SKU id, location id, their on-hand, the ledger's as of the snapshot's
    moment): the balance less what moved after that moment, in one statement, so an
    entry committing meanwhile is in both figures or in neither. ``occurred_at``
    decides, not ``recorded_at``: a till sale rung up before the snapshot but sent
    late is in the till's figure and so in the ledger's."""
    entries = StockMovement._meta.db_table
    balances = StockBalance._meta.db_table
    rows = StockSnapshotRow._meta.db_table
    sql = f"""
        SELECT r.id, r.sku_id, r.location_id, r.on_hand,
               COALESCE(b.on_hand, 0) - COALESCE((
                   SELECT SUM(e.on_hand_delta) FROM {entries} e
                   WHERE e.sku_id = r.sku_id AND e.location_id = r.location_id
                     AND e.occurred_at > %s), 0)
        FROM {rows} r
        LEFT JOIN {balances} b
          ON b.sku_id = r.sku_id AND b.location_id = r.location_id
        WHERE r.snapshot_id = %s AND r.id > %s
        ORDER BY r.id
        LIMIT %s
    """
    moment = connection.ops.adapt_datetimefield_value(snapshot.taken_at)
    with connection.cursor() as cursor:
        cursor.execute(sql, [moment, snapshot.pk, after, limit])
        return [tuple(int(v) for v in row) for row in cursor.fetchall()]


def _disagreements(snapshot: StockSnapshot, rows: list[tuple]) -> list[tuple]:
    return [
        row
        for row in rows
        if not within_tolerance(
            theirs=row[3],
            ours=row[4],
            units=settings.SNAPSHOT_TOLERANCE_UNITS,
            percent=settings.SNAPSHOT_TOLERANCE_PERCENT,
        )
    ]


def _raise_and_settle(run, snapshot, rows, found) -> None:
    """A case per SKU and location beyond tolerance, up to ``SNAPSHOT_CASES_MAX``
    per snapshot (past that, one case says how many more: a channel that disagrees
    everywhere is one problem, not thousands); a SKU and location that agree now
    settle the case an earlier snapshot raised for them."""
    channel = snapshot.channel
    prefix = f"snapshot:{channel.code}:"
    ids = {row[1] for row in rows}, {row[2] for row in rows}
    skus = Sku.objects.in_bulk(ids[0])
    locations = Location.objects.in_bulk(ids[1])
    key_of = {
        row[0]: f"{prefix}{skus[row[1]].code}@{locations[row[2]].code}" for row in rows
    }
    disagreeing = {row[0] for row in found}
    open_keys = set(
        ExceptionCase.objects.filter(
            status=ExceptionCase.Status.OPEN, key__in=key_of.values()
        ).values_list("key", flat=True)
    )
    for row in rows:
        if row[0] not in disagreeing and key_of[row[0]] in open_keys:
            exception_settle(
                key=key_of[row[0]],
                note=f"{channel.name} and the ledger agree again "
                f"(snapshot {snapshot.snapshot_id}).",
            )
    already = snapshot.disagreements
    limit = settings.SNAPSHOT_CASES_MAX
    report = list(run.report.get("disagreements", []))
    for index, (_, sku_id, location_id, theirs, ours) in enumerate(found):
        sku, location = skus[sku_id], locations[location_id]
        facts = {
            "channel": channel.code,
            "snapshot": snapshot.snapshot_id,
            "taken_at": snapshot.taken_at.isoformat(),
            "sku": sku.code,
            "location": location.code,
            "theirs": theirs,
            "ledger": ours,
        }
        if len(report) < REPORT_ROWS:
            report.append(facts)
        if already + index < limit:
            exception_raise(raised=_disagreement(run, snapshot, sku, location, facts))
    run.report = {**run.report, "disagreements": report}


def _raise_beyond_the_cases(run, snapshot, disagreements: int) -> None:
    beyond = disagreements - settings.SNAPSHOT_CASES_MAX
    channel = snapshot.channel
    if beyond <= 0:
        exception_settle(
            key=f"snapshot:{channel.code}:many",
            note=f"Snapshot {snapshot.snapshot_id} disagrees in {disagreements} "
            "places, few enough for a case each.",
        )
        return
    exception_raise(
        raised=Raised(
            kind=ExceptionKind.SNAPSHOT_DISAGREEMENT,
            key=f"snapshot:{channel.code}:many",
            title=f"{channel.name}: {beyond} more SKU-locations disagree with the "
            "ledger",
            detail=f"Snapshot {snapshot.snapshot_id} disagrees in {disagreements} "
            f"places, more than {settings.SNAPSHOT_CASES_MAX} cases should show; the "
            "run's page lists them. So many usually means the channel's feed, not "
            "the shelves, is wrong.",
            link=f"/store/reconciliation/{run.pk}/",
            facts={"snapshot": snapshot.snapshot_id, "disagreements": disagreements},
        )
    )


def _disagreement(run, snapshot, sku, location, facts) -> Raised:
    channel = snapshot.channel
    return Raised(
        kind=ExceptionKind.SNAPSHOT_DISAGREEMENT,
        key=f"snapshot:{channel.code}:{sku.code}@{location.code}",
        title=f"{sku.code} at {location.code}: {channel.name} says "
        f"{facts['theirs']}, the ledger {facts['ledger']}",
        # "The snapshot from Store tills", never "Store tills's snapshot": a
        # channel's name is often a plural.
        detail=f"The snapshot from {channel.name} ({snapshot.snapshot_id}) of "
        f"{snapshot.taken_at:%-d %b %Y %H:%M} counts {facts['theirs']} on hand; the "
        f"ledger as of that moment has {facts['ledger']}. Find which side missed "
        "an event (a sale not sent, a receipt not booked), or count the shelf.",
        sku=sku,
        location=location,
        link=f"/store/reconciliation/{run.pk}/",
        facts=facts,
    )
