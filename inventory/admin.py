"""Back-office views of locations and stock. The ledger and the balances are read-only
here: stock changes only through ``inventory.services`` (movements), never by editing
a row."""

from django.contrib import admin, messages

from config.access import Actor
from config.errors import DomainError

from .models import (
    Allocation,
    AvailabilityChange,
    Location,
    RefusedDemand,
    Reservation,
    ReservationKit,
    ReservationLine,
    ReservationTransition,
    SourceHealth,
    StaffMembership,
    StockBalance,
    StockConflict,
    StockMovement,
    TransferEvent,
    TransferRequest,
)
from .selectors import reservations_in_status
from .services import reservation_transition


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "city",
        "country",
        "pickup_enabled",
        "ship_from_store_enabled",
        "is_active",
        "pos_last_event_at",
    ]
    list_filter = [
        "kind",
        "pickup_enabled",
        "ship_from_store_enabled",
        "is_active",
        "country",
    ]
    search_fields = ["code", "name", "city", "postal_code"]
    readonly_fields = ["pos_last_event_at"]

    def get_inlines(self, request, obj):
        return [StaffMembershipInline]


class StaffMembershipInline(admin.TabularInline):
    """Who works here: they see and act on this store's pickup queue and no other's."""

    model = StaffMembership
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "since"]
    readonly_fields = ["since"]


class ReadOnlyInline(admin.TabularInline):
    """Rows a service wrote, shown on their parent's page and changed by nobody."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to staff, changeable by nobody: the rows are written by services."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "recorded_at",
        "occurred_at",
        "type",
        "sku",
        "location",
        "quantity",
        "status",
        "channel",
        "reference",
        "actor",
    ]
    list_filter = [
        "type",
        "status",
        "channel",
        ("location", admin.RelatedOnlyFieldListFilter),
        ("sku", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["reference", "sku__code", "location__code", "reason", "actor"]
    list_select_related = ["sku", "location", "channel"]
    date_hierarchy = "recorded_at"
    show_full_result_count = False


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    list_display = [
        "sku",
        "location",
        "on_hand",
        "committed",
        "picked",
        "reserved",
        "damaged",
        "quality_control",
        "available",
        "in_transit",
        "incoming",
        "last_count_at",
        "last_event_at",
    ]
    list_filter = [("location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["sku__code", "location__code"]
    list_select_related = ["sku", "location"]

    @admin.display(description="available")
    def available(self, balance: StockBalance) -> int:
        return balance.available


@admin.register(RefusedDemand)
class RefusedDemandAdmin(ReadOnlyAdmin):
    """Demand turned away for lack of stock: the dashboard's sales lost online."""

    list_display = [
        "refused_at",
        "channel",
        "kind",
        "reference",
        "sku",
        "location",
        "requested",
        "available",
    ]
    list_filter = ["kind", "channel", ("location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["reference", "sku__code"]
    list_select_related = ["channel", "sku", "location"]
    date_hierarchy = "refused_at"


@admin.register(StockConflict)
class StockConflictAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "sku",
        "location",
        "shortfall",
        "promised",
        "on_hand",
        "movement",
        "status",
        "resolved_by",
    ]
    list_filter = ["status", ("location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["sku__code", "location__code", "movement__reference"]
    list_select_related = ["sku", "location", "movement"]
    # Resolved with its case in the exception queue (/store/exceptions/), which lifts
    # the SKU's under-review availability and records why.


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = ["sku", "location", "quantity"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReservationKitInline(ReservationLineInline):
    """The kits the cart named: their units are on the lines above."""

    model = ReservationKit
    fields = ["sku", "location", "quantity", "components"]
    readonly_fields = fields


class ReservationTransitionInline(admin.TabularInline):
    model = ReservationTransition
    fields = ["at", "from_status", "to_status", "actor"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReservationStatusFilter(admin.SimpleListFilter):
    """By the status a reader sees: a hold past its expiry is expired, swept or not."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Reservation.Status.choices

    def queryset(self, request, queryset):
        if self.value() in Reservation.Status.values:
            return reservations_in_status(queryset, self.value())
        return queryset


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "reference",
        "channel",
        "status_now",
        "expires_at",
        "created_by",
    ]
    list_filter = [ReservationStatusFilter, "channel"]
    search_fields = ["reference", "created_by"]
    list_select_related = ["channel"]
    inlines = [ReservationLineInline, ReservationKitInline, ReservationTransitionInline]
    actions = ["release"]

    def has_change_permission(self, request, obj=None) -> bool:
        # Needed for the release action and the inlines; every field stays read-only.
        # Django's own permission decides, as for every admin action: being staff
        # lets someone into the admin, not release another channel's holds.
        return request.user.has_perm("inventory.change_reservation")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.display(description="status")
    def status_now(self, reservation: Reservation) -> str:
        return reservation.current_status()

    @admin.action(description="Release the selected holds", permissions=["change"])
    def release(self, request, queryset):
        released, refused = 0, []
        for reservation in queryset:
            try:
                reservation_transition(
                    reservation_id=reservation.pk,
                    to_status=Reservation.Status.RELEASED,
                    actor=Actor.of_user(request.user),
                )
                released += 1
            except DomainError as error:
                refused.append(error.message)
        self.message_user(request, f"Released {released} hold(s).")
        for message in refused:
            self.message_user(request, message, level=messages.WARNING)


class TransferEventInline(ReadOnlyInline):
    """The request's timeline: each step, who took it, when and why."""

    model = TransferEvent
    fields = ["at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


@admin.register(TransferRequest)
class TransferRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "sku",
        "quantity",
        "from_location",
        "to_location",
        "status",
        "requested_at",
        "requested_by",
    ]
    list_filter = ["status", "from_location", "to_location"]
    search_fields = ["sku__code", "reason"]
    inlines = [TransferEventInline]


@admin.register(AvailabilityChange)
class AvailabilityChangeAdmin(ReadOnlyAdmin):
    """The outbox: written by the database with every change of a balance."""

    list_display = [
        "id", "position", "sku", "location", "sequence", "on_hand", "reserved",
        "committed", "changed_at",
    ]  # fmt: skip
    search_fields = ["sku__code", "location__code"]
    list_select_related = ["sku", "location"]


@admin.register(SourceHealth)
class SourceHealthAdmin(admin.ModelAdmin):
    """Measured every minute; a manager sets only how often a source should be heard
    from (empty: not watched)."""

    list_display = [
        "channel", "delayed", "last_event_at", "expected_interval_seconds",
        "events_last_hour", "lag_median_seconds", "lag_p95_seconds",
        "rejected_last_hour", "duplicates_last_hour", "checked_at",
    ]  # fmt: skip
    list_select_related = ["channel"]
    fields = ["channel", "expected_interval_seconds"]
    readonly_fields = ["channel"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    """Units protected for a channel: set and lifted through the API
    (``/api/v1/allocations/``, ``inventory.services.allocations``), which announces
    each change; here they are read."""

    list_display = [
        "channel", "sku", "location", "units", "updated_by", "updated_at",
    ]  # fmt: skip
    list_filter = ["channel", ("location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["sku__code", "location__code", "channel__code"]
    list_select_related = ["channel", "sku", "location"]


# Future supply's pages live beside these; importing them here is how the admin finds
# them (it discovers each app's ``admin`` module only).
from . import supply_admin  # noqa: E402, F401
