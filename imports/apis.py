"""The imports API: ``POST /api/v1/imports/`` takes a file (multipart/form-data) and
answers 202 with its job; ``GET /api/v1/imports/`` and ``/{id}/`` follow the jobs;
``GET /api/v1/exports/{kind}/`` streams a kind's records as the CSV its import takes.
The rules live in ``imports.services``; this module only translates.

Who: importing a kind needs the scope its writes need through the API (master data:
``write_master_data``, never a channel's token's; snapshots: ``snapshots``, a
channel's token for its own channel; stock: the scope of movements and counts);
exporting one, the scope that reads it. Imports are the retailer's and its
integrations' work: a store's staff member signed in does counts on the screens.
A token bound to a channel sees the jobs of its channel only.
"""

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.access import (
    Actor,
    Scope,
    bound_channel_code,
    is_store_staff_only,
)
from config.errors import PermissionRefused
from config.replicas import ReadsFromReplica

from .exports import kind_csv_lines
from .files import size_check
from .kinds import KINDS
from .models import ImportJob
from .serializers import ImportJobSerializer, ImportUploadSerializer
from .services import import_job_create

# A multipart body is the file and a few short fields: this much beside the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class ImportsNotForStoreStaff(PermissionRefused):
    code = "imports_not_for_store_staff"
    message = (
        "Files are imported by managers and the retailer's integrations; a store's "
        "stock is counted on the counts screen."
    )


@extend_schema_view(
    list=extend_schema(summary="Import jobs, latest first"),
    retrieve=extend_schema(
        summary="One import job: its status, progress and rows in error"
    ),
)
class ImportJobViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ImportJobSerializer
    filterset_fields = ["status", "kind"]
    ordering_fields = ["created_at", "id"]
    # Following a job is open to whoever may read master data (every token and
    # member of staff by default); a channel's token sees its channel's jobs.
    read_scope = Scope.READ_MASTER_DATA

    @property
    def write_scope(self) -> Scope:
        """The scope the kind sent needs; an unknown kind passes here to be refused
        by the serializer with a 400 naming the kinds."""
        kind = KINDS.get(self.request.data.get("kind"))
        return Scope(kind.scope) if kind is not None else Scope.READ_MASTER_DATA

    def get_parsers(self):
        # Files come as multipart/form-data here only: the rest of the API is JSON.
        if getattr(self.request, "method", None) == "POST":
            return [MultiPartParser()]
        return super().get_parsers()

    def get_queryset(self):
        jobs = ImportJob.objects.all()
        bound = bound_channel_code(self.request)
        if bound is not None:
            jobs = jobs.filter(channel_code=bound)
        return jobs

    def initial(self, request, *args, **kwargs):
        # Refused before the body is read: a file over the limit is not parsed.
        if request.method == "POST":
            size_check(_declared_length(request) - FORM_OVERHEAD_BYTES)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Import a file",
        description=(
            "Sends a CSV or JSON Lines file of one `kind` (docs/imports.md lists each "
            "kind's columns). Answers 202 with the job, queued: it checks every row "
            "first and, when any row is wrong, writes nothing and ends `refused` with "
            "the rows in error (unless `skip_wrong_rows`), else writes page by page; "
            "follow it at the `Location`. The same bytes sent again for the same kind "
            "from the same channel answer 200 with the job they made while it runs "
            "and for 24 hours after it is done (a refused or failed job never "
            "does); later, they are imported again. A file over "
            "`IMPORT_MAX_FILE_MB` is a 413; an empty file, one of another format or "
            "whose columns are not the kind's, a 400; a file not UTF-8 past its "
            "first line, a job `refused` saying where."
        ),
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: OpenApiResponse(ImportJobSerializer, description="Queued."),
            200: OpenApiResponse(
                ImportJobSerializer, description="The same file was sent before."
            ),
            400: OpenApiResponse(description="The file or the kind cannot be taken."),
            413: OpenApiResponse(description="The file is over the size limit."),
        },
    )
    def create(self, request: Request) -> Response:
        if is_store_staff_only(request):
            raise ImportsNotForStoreStaff()
        incoming = ImportUploadSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        upload = incoming.validated_data["file"]
        job, created = import_job_create(
            kind=incoming.validated_data["kind"],
            content=upload.read(),
            file_name=upload.name or "",
            content_type=upload.content_type or "",
            skip_wrong_rows=incoming.validated_data["skip_wrong_rows"],
            created_by=Actor.of_request(request),
            channel_code=bound_channel_code(request) or "",
        )
        return Response(
            ImportJobSerializer(job).data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
            headers={"Location": f"/api/v1/imports/{job.pk}/"},
        )


def _declared_length(request: Request) -> int:
    """The body's declared length; one that is not a number counts as none, as
    Django reads it (the body is then refused by the parser, a 400)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class ExportView(ReadsFromReplica, APIView):
    """A kind's records as CSV, in its import's columns, streamed."""

    @property
    def read_scope(self) -> Scope:
        kind = KINDS.get(self.kwargs.get("kind"))
        return Scope(kind.export_scope) if kind else Scope.READ_MASTER_DATA

    @extend_schema(
        summary="Export a kind as CSV",
        description=(
            "Every record of the kind (snapshots: each channel's latest; a channel's "
            "token: its own) as CSV in the columns its import takes: imported back, "
            "it changes nothing. Text a spreadsheet would run as a formula starts "
            "with a quote, which the import takes off."
        ),
        parameters=[
            OpenApiParameter(
                "kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(KINDS)
            )
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The CSV file."
            ),
            404: OpenApiResponse(description="No such kind."),
        },
    )
    def get(self, request: Request, kind: str) -> StreamingHttpResponse:
        found = KINDS.get(kind)
        if found is None:
            raise Http404(f"No kind {kind!r}: one of {', '.join(KINDS)}.")
        response = StreamingHttpResponse(
            kind_csv_lines(found, channel_code=bound_channel_code(request)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
        return response
