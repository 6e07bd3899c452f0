"""The imports screen under /store/imports/ (managers): send a file of one kind, follow
the jobs with a progress bar each (refreshed while one runs), read a job's rows in
error in plain words, and download each kind as the CSV its import takes. Thin: the
upload calls one service, which hands the job to a worker."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods

from config import access
from config.access import Actor
from config.errors import InvalidInput
from config.screens import readable, render, staff_screen

from .files import FileTooLarge
from .kinds import KINDS
from .models import ImportJob
from .services import import_job_create

JOBS_SHOWN = 20


def _managers_only(request: HttpRequest) -> None:
    # A file writes master data or stock across every store: a manager's work.
    if not access.sees_every_location(request.user):
        raise Http404("Imports are for managers.")


@require_http_methods(["GET", "POST"])
@staff_screen
def imports(request: HttpRequest) -> HttpResponse:
    _managers_only(request)
    if request.method == "POST":
        job = _upload(request)
        if job is not None:
            return redirect("imports:job", job_id=job.pk)
    jobs = list(ImportJob.objects.all()[:JOBS_SHOWN])
    for job in jobs:
        job.kind_label = _label(job.kind)
    template = "imports/_jobs.html" if request.htmx else "imports/imports.html"
    return render(
        request,
        template,
        {
            "jobs": jobs,
            "running": any(job.running for job in jobs),
            "kinds": KINDS.values(),
            "chosen": request.POST.get("kind", ""),
            "max_mb": settings.IMPORT_MAX_FILE_MB,
        },
        status=400 if request.method == "POST" else None,
    )


def _upload(request: HttpRequest) -> ImportJob | None:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "Choose a file to send.")
        return None
    try:
        job, created = import_job_create(
            kind=request.POST.get("kind", ""),
            content=upload.read(),
            file_name=upload.name or "",
            content_type=upload.content_type or "",
            skip_wrong_rows=request.POST.get("skip_wrong_rows") == "on",
            created_by=Actor.of_user(request.user),
        )
    except (InvalidInput, FileTooLarge) as refused:
        messages.error(request, readable(refused))
        return None
    if not created:
        messages.info(request, "This file was sent before: here is what became of it.")
    return job


@require_GET
@staff_screen
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    _managers_only(request)
    job = get_object_or_404(ImportJob, pk=job_id)
    template = "imports/_job.html" if request.htmx else "imports/job.html"
    return render(
        request,
        template,
        {"job": job, "kind_label": _label(job.kind)},
    )


def _label(kind: str) -> str:
    found = KINDS.get(kind)
    return found.label if found else kind
