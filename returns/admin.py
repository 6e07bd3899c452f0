"""Returns in the back-office for support: read-only, with lines, grades and the
timeline; the store screens (/store/returns/) are where work is done."""

from django.contrib import admin

from inventory.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Return, ReturnEvent, ReturnInspection, ReturnLine


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = [
        "sku",
        "kit",
        "order_line",
        "expected_quantity",
        "quantity",
        "graded_quantity",
        "reason",
        "reason_text",
    ]
    readonly_fields = fields


class ReturnEventInline(ReadOnlyInline):
    model = ReturnEvent
    fields = ["at", "kind", "from_status", "to_status", "actor", "note", "detail"]
    readonly_fields = fields


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "channel",
        "location",
        "status",
        "source",
        "received_at",
        "overdue_since",
    ]
    list_filter = ["status", "source", "channel", "location"]
    search_fields = ["reference", "order__reference", "till_receipt", "customer_name"]
    inlines = [ReturnLineInline, ReturnEventInline]


@admin.register(ReturnInspection)
class ReturnInspectionAdmin(ReadOnlyAdmin):
    list_display = ["line", "grade", "quantity", "shelf_location", "actor", "graded_at"]
    list_filter = ["grade", "line__customer_return__location"]
    search_fields = ["line__customer_return__reference", "line__sku__code"]
