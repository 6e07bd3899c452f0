"""Import jobs: taking a file in (``import_job_create``), running it
(``import_job_run``) and picking up jobs left behind (``import_jobs_sweep``).

A job runs in two passes over the file's pages (``imports.files.pages``):

1. **check**: every page through its kind's ``check``, nothing written; the rows in
   error are counted and the first ``ERRORS_KEPT`` kept as the report. When any row
   is wrong and the job was not asked to skip wrong rows, it ends ``refused`` and
   nothing at all is written.
2. **write**: page by page, each page one transaction that also saves the job's
   progress (``pages_written``), so a job cut off half-way (a worker restarted)
   carries on after its last committed page. The clean rows of the check pass are
   kept in memory for the write pass (up to ``KEEP_CHECKED_ROWS``); a resumed job,
   or a bigger file, checks each page again just before writing it (and the pages
   written already, only for what its kind learns across pages).

One worker runs a job at a time: a run claims it by its heartbeat (written with
every page); another run finding a fresh heartbeat leaves it alone, one finding a
heartbeat older than ``STALE_SECONDS`` takes it over. The run it was taken from
finds another heartbeat than its own at its next page and stops (``TakenOver``),
writing and moving nothing.
"""

import hashlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from config import transitions
from config.access import Actor
from config.errors import InvalidInput
from config.transitions import TransitionRefused

from .files import FileRefused, file_check, file_format, pages, size_check
from .kinds import KINDS
from .kinds.base import ImportKind, RowError
from .models import ERRORS_KEPT, ImportFile, ImportJob

Status = ImportJob.Status
log = logging.getLogger(__name__)

# A job whose heartbeat is older than this was cut off (its worker stopped); a page
# commits in seconds, so minutes of silence mean nobody is running it.
STALE_SECONDS = 120
# Checked rows held in memory between the passes; past this the write pass checks
# each page again instead (a few hundred bytes a row).
KEEP_CHECKED_ROWS = 2_000_000
SYSTEM = Actor.system("imports")
# Where a kind's ``write`` puts the rows it left out after all (their stock moved
# since the check): added to the job's report with the page.
WRITE_ERRORS = "write_errors"


class ImportJobRefused(TransitionRefused):
    code = "import_job_transition_refused"


def import_job_create(
    *,
    kind: str,
    content: bytes,
    file_name: str,
    skip_wrong_rows: bool = False,
    created_by: Actor,
    content_type: str = "",
    channel_code: str = "",
) -> tuple[ImportJob, bool]:
    """A job for the file, queued for a worker after the commit; or, when the same
    bytes were sent for the same kind from the same channel and that job is still
    running or finished within ``IDEMPOTENCY_KEY_HOURS``, that job (``created``
    False: a file sent twice is imported once; sent again later, e.g. to undo manual
    edits, it is imported again). Refuses, nothing kept, a file over
    ``IMPORT_MAX_FILE_MB`` (``FileTooLarge``), and (``InvalidInput``) a kind that
    does not exist, a file of no known format, an empty file or one whose columns
    are not the kind's."""
    size_check(len(content))
    found = KINDS.get(kind)
    if found is None:
        raise InvalidInput(
            {"kind": [f"Unknown kind {kind!r}: one of {', '.join(KINDS)}."]}
        )
    try:
        fmt = file_format(file_name, content_type)
        estimate = file_check(found, content, fmt)
    except FileRefused as refused:
        raise InvalidInput({"file": [str(refused)]}) from None
    digest = hashlib.sha256(content).hexdigest()
    standing = _standing(kind, channel_code, digest)
    if standing is not None:
        return standing, False
    now = timezone.now()
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                kind=kind,
                file_name=file_name[:255],
                file_format=fmt,
                digest=digest,
                size_bytes=len(content),
                skip_wrong_rows=skip_wrong_rows,
                rows_total=estimate,
                created_by=created_by.name,
                source=created_by.source,
                channel_code=channel_code,
                created_at=now,
                heartbeat_at=now,
            )
            ImportFile.objects.create(job=job, content=content)
            transitions.record_event(
                job,
                actor=created_by,
                action="import_job_create",
                at=now,
                to_status=Status.QUEUED,
                note=f"{file_name} ({len(content):,} bytes)",
            )
    except IntegrityError:
        # The same file sent twice at once: the other upload's job is the one.
        standing = _standing(kind, channel_code, digest)
        if standing is None:
            raise
        return standing, False
    transaction.on_commit(lambda: _hand_to_a_worker(job.pk))
    return job, True


def _standing(kind: str, channel_code: str, digest: str) -> ImportJob | None:
    """The job the same file from the same channel made and that still answers for
    it: one unfinished, or done within ``IDEMPOTENCY_KEY_HOURS`` (the Idempotency-Key
    header's window). A refused or failed file may be sent again at once (what it
    named may exist now); a done one, once the window is over."""
    recent = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    return (
        ImportJob.objects.filter(kind=kind, channel_code=channel_code, digest=digest)
        .filter(
            Q(status__in=ImportJob.UNFINISHED)
            | Q(status=Status.DONE, finished_at__gte=recent)
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _hand_to_a_worker(job_id: int) -> None:
    # Imported here: the task module calls these services.
    from .tasks import job_kick

    job_kick(job_id)


def import_job_run(*, job_id: int) -> ImportJob:
    """The whole job, here and now: the check pass, then the write pass, or what is
    left of them when a cut-off job is taken over. A job finished, or running in
    another worker with a fresh heartbeat, is answered as it stands; so is one taken
    over by another worker while this run was on it (this run stops, writing
    nothing more). Anything a kind raises fails the job (its ``message`` says what),
    keeping what earlier pages committed: a new upload of the file writes again what
    they wrote, unchanged."""
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    kind = KINDS[job.kind]
    job.scratch = {}
    try:
        content = job.open_file()
        kept = None
        if job.status == Status.CHECKING:
            kept = _check_pass(job, kind, content)
        if job.status == Status.WRITING:
            _write_pass(job, kind, content, kept)
    except TakenOver:
        log.warning("Import job %s was taken over by another worker", job_id)
    except Exception as error:  # noqa: BLE001 (any failure is the job's, said on it)
        log.exception("Import job %s failed", job_id)
        return _fail(job, f"{type(error).__name__}: {error}")
    return ImportJob.objects.get(pk=job_id)


class TakenOver(Exception):
    """This run's job was handed to another worker (this one fell silent for longer
    than ``STALE_SECONDS``): this run leaves it to that one."""


def _locked_if_ours(job: ImportJob) -> ImportJob:
    """The job's row, locked, when it is still where this run left it: the same
    status and the heartbeat this run last wrote (a run taking it over writes its
    own); else ``TakenOver``."""
    locked = transitions.lock(ImportJob, job.pk)
    if locked.status != job.status or locked.heartbeat_at != job.heartbeat_at:
        raise TakenOver
    return locked


def _beat(job: ImportJob, **progress: Any) -> None:
    """Save the run's progress and its heartbeat, if the job is still this run's."""
    now = timezone.now()
    mine = ImportJob.objects.filter(
        pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at
    )
    if not mine.update(heartbeat_at=now, **progress):
        raise TakenOver
    job.heartbeat_at = now


def _claim(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = transitions.lock(ImportJob, job_id)
        now = timezone.now()
        stale = now - timedelta(seconds=STALE_SECONDS)
        if job.status == Status.QUEUED:
            job.started_at = job.heartbeat_at = now
            transitions.move(
                job,
                to=Status.CHECKING,
                actor=SYSTEM,
                action="import_job_check",
                at=now,
                error=ImportJobRefused,
                also=["started_at", "heartbeat_at"],
            )
            return job
        if job.status not in ImportJob.UNFINISHED:
            return None
        if job.heartbeat_at is not None and job.heartbeat_at > stale:
            return None  # another worker is on it
        job.heartbeat_at = now
        fields = ["heartbeat_at"]
        if job.status == Status.CHECKING:  # the check pass starts over
            job.rows_checked, job.rows_wrong, job.errors = 0, 0, []
            fields += ["rows_checked", "rows_wrong", "errors"]
        job.save(update_fields=fields)
        transitions.record_event(
            job,
            actor=SYSTEM,
            action="import_job_resume",
            at=now,
            from_status=job.status,
            to_status=job.status,
            note=f"Taken over after page {job.pages_written} was written.",
        )
        return job


def _check_pass(job: ImportJob, kind: ImportKind, content: bytes) -> list | None:
    """Every page checked; the job refused or moved on to writing. Answers the clean
    rows page by page, or None when there were too many to keep. A file not UTF-8
    further on than its first line is refused here, saying where."""
    kept: list | None = []
    kept_rows, checked, wrong, number = 0, 0, 0, 0
    report: list[RowError] = []
    unreadable = ""
    try:
        for number, (rows, read_errors) in enumerate(
            pages(kind, content, job.file_format, kind.page_size()), start=1
        ):
            job.page_number = number
            clean, errors = kind.check(rows, job=job) if rows else ([], [])
            errors = read_errors + errors
            checked += len(rows) + len(read_errors)
            wrong += len({error.line for error in errors})
            if len(report) < ERRORS_KEPT:
                report.extend(errors[: ERRORS_KEPT - len(report)])
            if kept is not None:
                kept.append(clean)
                kept_rows += len(clean)
                if kept_rows > KEEP_CHECKED_ROWS or (wrong and not job.skip_wrong_rows):
                    kept = None
            _beat(job, rows_checked=checked, rows_wrong=wrong)
    except FileRefused as refused:
        unreadable = str(refused)
    job.rows_total, job.rows_checked, job.rows_wrong = checked, checked, wrong
    job.pages_total = number
    job.errors = _report(sorted(report, key=lambda error: error.line))
    fields = ["rows_total", "rows_checked", "rows_wrong", "pages_total", "errors"]
    with transaction.atomic():
        locked = _locked_if_ours(job)
        # The row as locked, with this run's findings: never a stale copy moved.
        for name in fields:
            setattr(locked, name, getattr(job, name))
        if unreadable or (wrong and not job.skip_wrong_rows):
            locked.message = unreadable or (
                f"{wrong:,} of {checked:,} rows are wrong; nothing was written. Put "
                "them right and send the file again, or send it asking to skip the "
                "wrong rows."
            )
            locked.finished_at = timezone.now()
            transitions.move(
                locked,
                to=Status.REFUSED,
                actor=SYSTEM,
                action="import_job_refuse",
                note=locked.message,
                error=ImportJobRefused,
                also=[*fields, "message", "finished_at"],
            )
            job.status = locked.status
            return None
        transitions.move(
            locked,
            to=Status.WRITING,
            actor=SYSTEM,
            action="import_job_write",
            note=f"{checked - wrong:,} rows to write, {wrong:,} skipped.",
            error=ImportJobRefused,
            also=fields,
        )
        job.status = locked.status
    return kept


def _write_pass(
    job: ImportJob, kind: ImportKind, content: bytes, kept: list | None
) -> None:
    if kept is not None:
        checked = enumerate(kept, start=1)
    else:
        checked = _checked_again(job, kind, content)
    for number, clean in checked:
        if number <= job.pages_written:
            continue
        job.page_number = number
        with transaction.atomic():
            locked = _locked_if_ours(job)
            if locked.pages_written >= number:
                return  # not reached while the job is this run's; kept as a guard
            written = kind.write(clean, job=job)
            progress = {
                "pages_written": number,
                "rows_written": F("rows_written") + written,
            }
            late = job.scratch.pop(WRITE_ERRORS, [])
            if late:  # rows the write itself left out: reported with the others
                job.rows_wrong += len({error.line for error in late})
                room = max(ERRORS_KEPT - len(job.errors), 0)
                job.errors = sorted(
                    job.errors + _report(late[:room]), key=lambda error: error["line"]
                )
                progress.update(rows_wrong=job.rows_wrong, errors=job.errors)
            _beat(job, **progress)
            job.pages_written = number
    with transaction.atomic():
        locked = _locked_if_ours(job)
        locked.finished_at = timezone.now()
        transitions.move(
            locked,
            to=Status.DONE,
            actor=SYSTEM,
            action="import_job_done",
            note=f"{locked.rows_written:,} rows written.",
            error=ImportJobRefused,
            also=["finished_at"],
        )


def _checked_again(job: ImportJob, kind: ImportKind, content: bytes):
    """The pages not yet written, checked again just before they are (a resumed job,
    or a file too big to keep checked). The pages written already are checked too,
    their answers dropped, so that what a kind learns across pages (``scratch``:
    the codes or SKU and location pairs seen) is whole again: a row repeating one
    written before the cut is still caught. A row that went wrong since the check
    pass stops a job not asked to skip wrong rows."""
    job.scratch = {}
    for number, (rows, read_errors) in enumerate(
        pages(kind, content, job.file_format, kind.page_size()), start=1
    ):
        job.page_number = number
        clean, errors = kind.check(rows, job=job) if rows else ([], [])
        if number <= job.pages_written:
            continue
        if (errors or read_errors) and not job.skip_wrong_rows:
            first = (read_errors + errors)[0]
            raise ValueError(
                f"line {first.line} went wrong after the check: {first.message}"
            )
        yield number, clean


def _report(errors: list[RowError]) -> list[dict[str, Any]]:
    return [
        {"line": error.line, "column": error.column, "message": error.message}
        for error in errors
    ]


def _fail(job: ImportJob, reason: str) -> ImportJob:
    """The job failed, saying why; unless another worker took it over meanwhile (its
    run decides how it ends)."""
    with transaction.atomic():
        locked = transitions.lock(ImportJob, job.pk)
        ours = locked.heartbeat_at == job.heartbeat_at
        if ours and locked.status in ImportJob.UNFINISHED:
            locked.message = reason[:1000]
            locked.finished_at = timezone.now()
            transitions.move(
                locked,
                to=Status.FAILED,
                actor=SYSTEM,
                action="import_job_fail",
                note=locked.message,
                error=ImportJobRefused,
                also=["message", "finished_at"],
            )
    return locked


def import_jobs_sweep() -> int:
    """Hand to a worker again every job left queued (its kick was lost: the broker
    was down) or cut off (no heartbeat for ``STALE_SECONDS``). Answers how many."""
    now = timezone.now()
    stale = now - timedelta(seconds=STALE_SECONDS)
    left: list[Any] = list(
        ImportJob.objects.filter(status__in=ImportJob.UNFINISHED)
        .filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True))
        .values_list("pk", flat=True)
    )
    # A queued job swept waits STALE_SECONDS before it is swept again.
    ImportJob.objects.filter(pk__in=left, status=Status.QUEUED).update(heartbeat_at=now)
    for job_id in left:
        _hand_to_a_worker(job_id)
    return len(left)
