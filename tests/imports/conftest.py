"""What the imports stories share: a file sent through the API as a client sends it
(multipart/form-data), and the job run as the worker runs it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports.models import ImportJob
from imports.services import import_job_run


def upload(client, kind: str, text: str | bytes, *, name: str = "file.csv", **fields):
    """POST /api/v1/imports/ with the file, as multipart/form-data."""
    content = text.encode() if isinstance(text, str) else text
    return client.post(
        "/api/v1/imports/",
        {"kind": kind, "file": SimpleUploadedFile(name, content), **fields},
        format="multipart",
    )


def run(response) -> ImportJob:
    """The job the upload answered, run to its end (what a worker does)."""
    return import_job_run(job_id=response.json()["id"])


@pytest.fixture
def send(api):
    """Send a file as the retailer's ERP and run its job."""

    def send(kind: str, text: str | bytes, **fields) -> ImportJob:
        response = upload(api, kind, text, **fields)
        assert response.status_code in (200, 202), response.content
        return run(response)

    return send
