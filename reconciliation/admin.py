"""The exception queue and the counts in the admin, read-only: support looks here;
people work cases and counts on the store screens."""

from django.contrib import admin

from inventory.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import CountLine, CountTask, CountTaskEvent, ExceptionCase, ExceptionEvent


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
