"""Pickup tasks in the back-office for support: read-only, with their timeline,
problems and the messages sent; the store screens (/store/) are where work is done."""

from django.contrib import admin

from inventory.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import PickupNotice, PickupProblem, PickupTask, PickupTaskEvent


class PickupTaskEventInline(ReadOnlyInline):
    model = PickupTaskEvent
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


class PickupProblemInline(ReadOnlyInline):
    model = PickupProblem
    fields = [
        "line",
        "quantity",
        "condition",
        "status",
        "resolution",
        "reported_by",
        "reported_at",
        "escalated_at",
        "resolved_by",
    ]
    readonly_fields = fields


class PickupNoticeInline(ReadOnlyInline):
    model = PickupNotice
    fields = ["created_at", "kind", "to", "subject", "sent_at", "failure"]
    readonly_fields = fields


@admin.register(PickupTask)
class PickupTaskAdmin(ReadOnlyAdmin):
    list_display = ["order", "location", "status", "due_at", "claimed_by", "expires_at"]
    list_filter = ["status", "location"]
    search_fields = ["order__reference", "order__customer_name", "collection_code"]
    inlines = [PickupProblemInline, PickupTaskEventInline, PickupNoticeInline]


@admin.register(PickupProblem)
class PickupProblemAdmin(ReadOnlyAdmin):
    list_display = ["task", "line", "quantity", "condition", "status", "escalated_at"]
    list_filter = ["status", "condition", "task__location"]
