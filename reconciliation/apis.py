"""The API of reconciliation.

- ``GET /api/v1/exceptions/``: the exception queue for a retailer's own tooling, with
  the screen's filters. Read-only: people work the cases on the screen. A token bound
  to one sales channel is refused: the queue is the retailer's, not a channel's.
- ``/api/v1/snapshots/``: a channel sends its own view of stock, page by page, and
  reads what the nightly comparison found.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from catalog.selectors import channels_by_code, skus_by_code
from config.access import (
    Actor,
    Scope,
    bound_channel_code,
    ensure_may_act_for_channel,
    with_bound_channel,
)
from config.replicas import ReadsFromReplica
from inventory.models import Location

from .models import ExceptionCase, ExceptionKind, StockSnapshot
from .selectors import AGES, exceptions_filtered, exceptions_visible_to
from .serializers import (
    ExceptionCaseSerializer,
    SnapshotPageSerializer,
    SnapshotSerializer,
    shown,
)
from .services.snapshots import SnapshotFigure, snapshot_page_receive

FILTERS = [
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=["open", "resolved", "all"],
        description="Default `open`.",
    ),
    OpenApiParameter("location", OpenApiTypes.STR, description="A location code."),
    OpenApiParameter("kind", OpenApiTypes.STR, enum=ExceptionKind.values),
    OpenApiParameter(
        "age",
        OpenApiTypes.STR,
        enum=list(AGES),
        description="`overdue`: open past its kind's target; `1d`, `3d`, `7d`: "
        "first raised longer ago than that.",
    ),
    OpenApiParameter(
        "assignee",
        OpenApiTypes.STR,
        description="A username, or `nobody` for cases not yet assigned.",
    ),
]


@extend_schema_view(
    list=extend_schema(summary="The exception queue, oldest first", parameters=FILTERS),
    retrieve=extend_schema(summary="One exception case with its timeline"),
)
class ExceptionViewSet(
    ReadsFromReplica,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    read_scope = Scope.EXCEPTIONS
    serializer_class = ExceptionCaseSerializer

    def get_queryset(self):
        cases = ExceptionCase.objects
        if self.request.auth is None:
            # Staff signed in to the browsable API see what their screen shows.
            cases = exceptions_visible_to(self.request.user)
        cases = cases.select_related(
            "sku", "location", "assignee", "adjustment"
        ).prefetch_related("events")
        if self.action != "list":
            return cases
        return self._filtered(cases)

    def _filtered(self, cases):
        given = self.request.query_params
        errors: dict[str, list[str]] = {}
        status = given.get("status", "open")
        if status not in ("open", "resolved", "all"):
            errors["status"] = ["One of open, resolved, all."]
        kind = given.get("kind", "")
        if kind and kind not in ExceptionKind.values:
            errors["kind"] = [f"One of {', '.join(ExceptionKind.values)}."]
        age = given.get("age", "")
        if age and age not in AGES:
            errors["age"] = [f"One of {', '.join(AGES)}."]
        location = None
        if given.get("location"):
            location = Location.objects.filter(code=given["location"]).first()
            if location is None:
                errors["location"] = [f"No location {given['location']!r}."]
        if errors:
            raise ValidationError(errors)
        return exceptions_filtered(
            cases,
            status="" if status == "all" else status,
            location=location,
            kind=kind,
            age=age,
            assignee=given.get("assignee", ""),
        )


@extend_schema_view(
    list=extend_schema(
        summary="Stock snapshots received, latest first",
        parameters=[
            OpenApiParameter("channel", OpenApiTypes.STR, description="Channel code."),
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=StockSnapshot.Status.values
            ),
        ],
    ),
    retrieve=extend_schema(summary="One stock snapshot and what its comparison found"),
)
class SnapshotViewSet(
    ReadsFromReplica,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A channel's own view of on-hand, for the nightly run to compare with the
    ledger. A token bound to a channel sends and reads its own channel's only."""

    read_scope = Scope.SNAPSHOTS

    serializer_class = SnapshotSerializer

    def get_queryset(self):
        snapshots = StockSnapshot.objects.select_related("channel")
        bound = bound_channel_code(self.request)
        if bound is not None:
            snapshots = snapshots.filter(channel__code=bound)
        if self.action != "list":
            return snapshots
        given = self.request.query_params
        errors = {}
        if given.get("status") and given["status"] not in StockSnapshot.Status.values:
            errors["status"] = [f"One of {', '.join(StockSnapshot.Status.values)}."]
        if errors:
            raise ValidationError(errors)
        if given.get("channel"):
            snapshots = snapshots.filter(channel__code=given["channel"])
        if given.get("status"):
            snapshots = snapshots.filter(status=given["status"])
        return snapshots

    @extend_schema(
        summary="Send one page of a stock snapshot",
        description=(
            "A POS or web shop's own view of on-hand per SKU and location, as of "
            "`taken_at`, in pages of up to 10,000 rows under the channel's own "
            "`snapshot_id`. 201 with the snapshot when the page is new; 200 when the "
            "same page comes again with the same rows (nothing changes). 409 "
            "`snapshot_clash` when the page number was used for other rows, a SKU "
            "and location is already on another page, or `taken_at`/`page_count` "
            "differ from the first page's. 400 names every bad row (the first 20) "
            "and writes nothing. When the last page arrives the snapshot is "
            "`complete`; the nightly reconciliation compares each channel's latest "
            "with the ledger as of `taken_at` and raises a `snapshot_disagreement` "
            "case per SKU and location beyond the tolerance."
        ),
        request=SnapshotPageSerializer,
        responses={
            200: OpenApiResponse(SnapshotSerializer, description="A page resent."),
            201: SnapshotSerializer,
            400: OpenApiResponse(description="Field or row errors; nothing written."),
            403: OpenApiResponse(description="The token acts for another channel."),
            409: OpenApiResponse(description="The page clashes with one received."),
        },
    )
    def create(self, request):
        incoming = SnapshotPageSerializer(
            data=with_bound_channel(request, request.data)
        )
        incoming.is_valid(raise_exception=True)
        page = incoming.validated_data
        if "channel" not in page:
            raise ValidationError({"channel": ["Name the channel the snapshot is of."]})
        channel = channels_by_code(codes={page["channel"]}).get(page["channel"])
        if channel is None:
            raise ValidationError(
                {"channel": [f"Unknown channel {page['channel']!r}."]}
            )
        ensure_may_act_for_channel(request, channel.code)
        receipt = snapshot_page_receive(
            channel=channel,
            snapshot_id=page["snapshot_id"],
            taken_at=page["taken_at"],
            page=page["page"],
            page_count=page["page_count"],
            figures=_figures(page["rows"]),
            actor=Actor.of_request(request),
        )
        return Response(
            SnapshotSerializer(receipt.snapshot).data,
            status=200 if receipt.duplicate else 201,
        )


def _figures(rows: list[tuple[str, str, int]]) -> list[SnapshotFigure]:
    """Codes to records, all at once; any unknown code is a 400 naming its rows."""
    skus = skus_by_code(codes={sku for sku, _, _ in rows})
    locations = {
        location.code: location
        for location in Location.objects.filter(code__in={loc for _, loc, _ in rows})
    }
    problems = []
    for index, (sku, location, _) in enumerate(rows):
        if sku not in skus:
            problems.append(f"Row {index}: unknown SKU {sku!r}.")
        elif skus[sku].is_kit:
            # A kit holds no stock: the shelf's count is its components'.
            problems.append(f"Row {index}: {sku} is a kit; report its components.")
        if location not in locations:
            problems.append(f"Row {index}: unknown location {location!r}.")
    if problems:
        raise ValidationError({"rows": shown(problems)})
    return [
        SnapshotFigure(
            sku_id=skus[sku].pk, location_id=locations[location].pk, on_hand=on_hand
        )
        for sku, location, on_hand in rows
    ]
