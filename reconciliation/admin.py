"""The exception queue, the counts, the reconciliation runs, the snapshots and the
transfer proposals in the admin, read-only: support looks here; people work cases and
counts on the store screens, managers start runs from /store/reconciliation/ and
decide transfer proposals on /store/transfers/."""

from django.contrib import admin

from inventory.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    CountLine,
    CountTask,
    CountTaskEvent,
    ExceptionCase,
    ExceptionEvent,
    ReconciliationRun,
    ReconciliationRunEvent,
    StockSnapshot,
    TransferProposal,
    TransferProposalEvent,
)


class ExceptionEventInline(ReadOnlyInline):
    model = ExceptionEvent
    fields = ["at", "kind", "actor", "note"]
    readonly_fields = fields


@admin.register(ExceptionCase)
class ExceptionCaseAdmin(ReadOnlyAdmin):
    list_display = [
        "first_raised_at",
        "kind",
        "title",
        "location",
        "status",
        "times_raised",
        "assignee",
        "resolution",
    ]
    list_filter = ["status", "kind", ("location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "key", "sku__code"]
    list_select_related = ["location", "assignee"]
    inlines = [ExceptionEventInline]


class CountLineInline(ReadOnlyInline):
    model = CountLine
    fields = [
        "sku",
        "status",
        "first_count",
        "counted",
        "system_on_hand",
        "result",
        "decided_by",
        "posted",
    ]
    readonly_fields = fields


class CountTaskEventInline(ReadOnlyInline):
    model = CountTaskEvent
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


@admin.register(CountTask)
class CountTaskAdmin(ReadOnlyAdmin):
    list_display = ["for_date", "location", "origin", "status", "created_by"]
    list_filter = ["status", "origin", ("location", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["location"]
    inlines = [CountLineInline, CountTaskEventInline]


class ReconciliationRunEventInline(ReadOnlyInline):
    model = ReconciliationRunEvent
    fields = ["at", "kind", "actor", "note"]
    readonly_fields = fields


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = [
        "started_at",
        "trigger",
        "status",
        "phase",
        "finished_at",
        "balances_checked",
        "drift_found",
        "snapshot_rows_checked",
        "disagreements_found",
        "resumed",
    ]
    list_filter = ["status", "trigger"]
    inlines = [ReconciliationRunEventInline]


@admin.register(StockSnapshot)
class StockSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "taken_at",
        "channel",
        "snapshot_id",
        "status",
        "pages_received",
        "page_count",
        "rows_received",
        "disagreements",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["snapshot_id"]
    list_select_related = ["channel"]


class TransferProposalEventInline(ReadOnlyInline):
    model = TransferProposalEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


@admin.register(TransferProposal)
class TransferProposalAdmin(ReadOnlyAdmin):
    list_display = [
        "proposed_at",
        "sku",
        "from_location",
        "to_location",
        "quantity",
        "approved_quantity",
        "status",
        "expected_units_saved",
        "cost",
        "decided_by",
    ]
    list_filter = [
        "status",
        ("from_location", admin.RelatedOnlyFieldListFilter),
        ("to_location", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["sku__code"]
    list_select_related = ["sku", "from_location", "to_location"]
    inlines = [TransferProposalEventInline]
