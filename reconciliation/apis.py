"""``GET /api/v1/exceptions/``: the exception queue for a retailer's own tooling,
with the screen's filters. Read-only: people work the cases on the screen. A token
bound to one sales channel is refused: the queue is the retailer's, not a channel's."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError

from config.access import bound_channel_code
from config.errors import PermissionRefused
from inventory.models import Location

from .models import ExceptionCase, ExceptionKind
from .selectors import AGES, exceptions_filtered, exceptions_visible_to
from .serializers import ExceptionCaseSerializer

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
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = ExceptionCaseSerializer

    def get_queryset(self):
        if bound_channel_code(self.request) is not None:
            raise PermissionRefused(
                "A token bound to a sales channel cannot read the exception queue."
            )
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
