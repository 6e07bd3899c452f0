"""Import jobs on the workers: one task runs a job, and beat's sweep (migration 0002,
every minute) hands again to a worker what was left queued or cut off. Thin: each
calls one service."""

from celery import shared_task
from django.conf import settings

from config.broker import job_queue

from .services import import_job_run, import_jobs_sweep

RUN_JOB = "imports.run_job"
SWEEP = "imports.sweep"


@shared_task(name=RUN_JOB, ignore_result=True)
def run_import_job(job_id: int) -> str:
    return import_job_run(job_id=job_id).status


@shared_task(name=SWEEP, ignore_result=True)
def sweep_import_jobs() -> int:
    return import_jobs_sweep()


def job_kick(job_id: int) -> bool:
    """Queue the job without waiting on the broker (``config.broker.job_queue``);
    when it cannot be queued, the job stays queued and the sweep hands it on."""
    return job_queue(
        run_import_job,
        what=f"import job {job_id}",
        args=[job_id],
        queue=settings.IMPORT_QUEUE,
    )
