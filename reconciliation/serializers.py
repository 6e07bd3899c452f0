"""The exception queue as the API shows it to a retailer's own tooling, the
channels' stock snapshots as they send and read them, and the transfer proposals with
a manager's approval or rejection."""

import re

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import (
    CodeField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from config.records import CODE_HELP, CODE_PATTERN
from inventory.reservation_serializers import ShortageSerializer
from inventory.serializers import source_moment

from .models import ExceptionCase, ExceptionEvent, StockSnapshot
from .proposal_models import TransferProposal, TransferProposalEvent
from .selectors import ageing
from .services.proposals import MOST_UNITS


class ExceptionEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExceptionEvent
        fields = ["kind", "from_status", "to_status", "actor", "note", "at"]


class ExceptionCaseSerializer(serializers.ModelSerializer):
    # Each may be empty (null): a case of no one SKU or location, not yet assigned,
    # resolved without an adjustment.
    sku = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    location = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    assignee = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    adjustment = serializers.SlugRelatedField(
        slug_field="reference", read_only=True, allow_null=True
    )
    age_hours = serializers.SerializerMethodField(help_text="Since first raised.")
    target_hours = serializers.SerializerMethodField(
        help_text="How long a case of this kind may stay open."
    )
    overdue = serializers.SerializerMethodField()
    events = ExceptionEventSerializer(many=True, read_only=True)

    class Meta:
        model = ExceptionCase
        fields = [
            "id",
            "kind",
            "key",
            "status",
            "title",
            "detail",
            "facts",
            "link",
            "sku",
            "location",
            "times_raised",
            "first_raised_at",
            "last_raised_at",
            "age_hours",
            "target_hours",
            "overdue",
            "assignee",
            "resolution",
            "resolution_note",
            "resolved_by",
            "resolved_at",
            "adjustment",
            "events",
        ]

    def get_age_hours(self, case: ExceptionCase) -> float:
        return round(ageing(case).hours, 1)

    def get_target_hours(self, case: ExceptionCase) -> int:
        return ageing(case).target

    def get_overdue(self, case: ExceptionCase) -> bool:
        return case.status == ExceptionCase.Status.OPEN and ageing(case).overdue


class SnapshotRowSerializer(serializers.Serializer):
    """One row of a snapshot page (documentation: rows are checked in bulk by
    ``SnapshotPageSerializer.validate_rows``, 10,000 at a time)."""

    sku = serializers.CharField(help_text="SKU code.")
    location = serializers.CharField(help_text="Location code.")
    on_hand = serializers.IntegerField(
        help_text="Units the channel believes are there."
    )


CODE = re.compile(CODE_PATTERN)
# A row's figure: any whole number a till can hold (a till's on-hand may be negative).
MAX_ON_HAND = 10**9
# A page with many bad rows names this many; the rest are counted.
ROW_ERRORS_SHOWN = 20


@extend_schema_field(SnapshotRowSerializer(many=True))
class SnapshotRowsField(serializers.Field):
    """Ten thousand rows checked by hand: a serializer per row would take seconds.
    Gives ``[(sku code, location code, on_hand), ...]``; every bad row is named."""

    def to_internal_value(self, data):
        limit = settings.SNAPSHOT_PAGE_MAX_ROWS
        if not isinstance(data, list) or not data:
            raise serializers.ValidationError("A list of 1 or more rows.")
        if len(data) > limit:
            raise serializers.ValidationError(
                f"{len(data):,} rows: at most {limit:,} per page."
            )
        rows, problems, seen = [], [], set()
        for index, row in enumerate(data):
            problem = snapshot_row_problem(row)
            if problem is None and (row["sku"], row["location"]) in seen:
                problem = "this SKU and location came earlier in the page"
            if problem is not None:
                problems.append(f"Row {index}: {problem}.")
                continue
            seen.add((row["sku"], row["location"]))
            rows.append((row["sku"], row["location"], row["on_hand"]))
        if problems:
            raise serializers.ValidationError(shown(problems))
        return rows


def snapshot_row_problem(row) -> str | None:
    """What is wrong with one snapshot row, or None: the one rule of an API page's
    rows and of a snapshot file's (imports/kinds/snapshots.py)."""
    if not isinstance(row, dict) or set(row) != {"sku", "location", "on_hand"}:
        return "give exactly sku, location and on_hand"
    for name in ("sku", "location"):
        if not isinstance(row[name], str) or not CODE.match(row[name]):
            return f"{name} is not a code ({CODE_HELP})"
    on_hand = row["on_hand"]
    if isinstance(on_hand, bool) or not isinstance(on_hand, int):
        return "on_hand is a whole number"
    if abs(on_hand) > MAX_ON_HAND:
        return f"on_hand is at most {MAX_ON_HAND:,} units either way"
    return None


def shown(problems: list[str]) -> list[str]:
    """The first few problems and how many more, so a bad file's 400 stays readable."""
    more = len(problems) - ROW_ERRORS_SHOWN
    return problems[:ROW_ERRORS_SHOWN] + ([f"… and {more} more."] if more > 0 else [])


class SnapshotPageSerializer(StrictInputSerializer):
    snapshot_id = CodeField(
        max_length=100,
        help_text="The channel's own id for this snapshot; with the channel, unique.",
    )
    channel = CodeField(
        required=False, help_text="Source channel; defaults to the token's own."
    )
    taken_at = StrictCharField(
        max_length=40,
        help_text="ISO 8601 with a UTC offset: the moment the figures describe.",
    )
    page = StrictIntegerField(min_value=1, max_value=settings.SNAPSHOT_MAX_PAGES)
    page_count = StrictIntegerField(
        min_value=1,
        max_value=settings.SNAPSHOT_MAX_PAGES,
        help_text="How many pages the whole snapshot has.",
    )
    rows = SnapshotRowsField(
        help_text=f"Up to {settings.SNAPSHOT_PAGE_MAX_ROWS:,} rows; each SKU and "
        "location once in the whole snapshot.",
    )

    def validate_taken_at(self, raw: str):
        return source_moment(raw)

    def validate(self, attrs):
        if attrs["page"] > attrs["page_count"]:
            raise serializers.ValidationError(
                {"page": [f"Page {attrs['page']} of {attrs['page_count']}?"]}
            )
        return attrs


class SnapshotSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    compared_in = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,  # null until the nightly run compares it
        help_text="The reconciliation run that compared it.",
    )

    class Meta:
        model = StockSnapshot
        fields = [
            "id",
            "snapshot_id",
            "channel",
            "taken_at",
            "page_count",
            "pages_received",
            "rows_received",
            "status",
            "created_at",
            "completed_at",
            "compared_at",
            "compared_in",
            "disagreements",
        ]


# ------------------------------------------------------------ transfer proposals


class TransferProposalEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TransferProposalEvent
        fields = ["action", "from_status", "to_status", "actor", "note", "at"]


class TransferProposalSerializer(serializers.ModelSerializer):
    """A proposal by codes, with the figures it was made from and, once approved, its
    transfer request's id and where that stands."""

    sku = serializers.SlugRelatedField(slug_field="code", read_only=True)
    from_location = serializers.SlugRelatedField(slug_field="code", read_only=True)
    to_location = serializers.SlugRelatedField(slug_field="code", read_only=True)
    transfer = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The transfer request an approval made; null until approved.",
    )
    transfer_status = serializers.CharField(
        source="transfer.status",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="`requested`, `dispatched`, `received` or `cancelled`; null "
        "until approved.",
    )
    events = TransferProposalEventSerializer(many=True, read_only=True)

    class Meta:
        model = TransferProposal
        fields = [
            "id",
            "status",
            "sku",
            "from_location",
            "to_location",
            "quantity",
            "approved_quantity",
            "from_available",
            "from_rate",
            "from_days_cover",
            "from_spare",
            "to_available",
            "to_rate",
            "to_days_cover",
            "to_on_the_way",
            "to_short",
            "lead_time_hours",
            "distance_km",
            "expected_units_saved",
            "cost_per_unit",
            "cost",
            "transfer",
            "transfer_status",
            "proposed_at",
            "proposed_by",
            "decided_by",
            "decided_at",
            "note",
            "events",
        ]


class TransferProposalApproveSerializer(StrictInputSerializer):
    quantity = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MOST_UNITS,
        help_text="Approve another number of units than proposed; left out: as "
        "proposed.",
    )
    note = StrictCharField(required=False, allow_blank=True, max_length=300, default="")


class TransferProposalRejectSerializer(StrictInputSerializer):
    reason = StrictCharField(
        required=False, allow_blank=True, max_length=300, default=""
    )


class TransferProposalRefusedSerializer(serializers.Serializer):
    """A 409 from approving or rejecting; nothing was changed."""

    detail = serializers.CharField()
    code = serializers.CharField(
        help_text="`insufficient_stock` (with `shortages`: the source can no longer "
        "spare the units beyond its walk-in units), "
        "`transfer_proposal_transition_refused` (with `status` and `allowed`: "
        "decided already, or superseded) or `no_transfer_channel`."
    )
    shortages = ShortageSerializer(many=True, required=False)
    status = serializers.ChoiceField(
        choices=TransferProposal.Status.choices, required=False
    )
    allowed = serializers.ListField(child=serializers.CharField(), required=False)
