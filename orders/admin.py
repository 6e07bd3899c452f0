"""Orders in the back-office for support: read-only, with their lines, timeline and
packing problems; return-to-stock tasks confirmed through the service, never edited
by hand; packing problems read-only (decided on the packing bench or the API)."""

from django.contrib import admin, messages

from config.access import Actor
from inventory.admin import ReadOnlyAdmin

from . import services
from .models import (
    Order,
    OrderEvent,
    OrderKitLine,
    OrderLine,
    PackingProblem,
    ReturnToStockTask,
)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = [
        "sku",
        "location",
        "kit_line",
        "per_kit",
        "quantity",
        "cancelled_quantity",
        "picked_quantity",
        "fulfilled_quantity",
        "status",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OrderKitLineInline(admin.TabularInline):
    """The kits ordered; their units are on the component lines above."""

    model = OrderKitLine
    extra = 0
    can_delete = False
    fields = ["id", "sku", "location", "quantity"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "from_status", "to_status", "actor", "source", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="reason")
    def reason(self, event: OrderEvent) -> str:
        # Support has always read this column as the reason.
        return event.note


class PackingProblemInline(admin.TabularInline):
    """Units a packer could not find or found damaged, and what became of them."""

    model = PackingProblem
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = [
        "line",
        "location",
        "quantity",
        "condition",
        "status",
        "resolution",
        "rerouted_line",
        "follow_up_order",
        "reported_by",
        "reported_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PackingProblem)
class PackingProblemAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "order",
        "location",
        "quantity",
        "condition",
        "status",
        "resolution",
        "reported_at",
    ]
    list_filter = ["status", "condition", "resolution", "location"]
    search_fields = ["order__reference"]
    list_select_related = ["order", "location"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "channel",
        "status",
        "fulfilment_method",
        "customer_name",
        "pickup_location",
        "placed_at",
        "promised_by",
    ]
    list_filter = ["status", "fulfilment_method", "channel"]
    search_fields = ["reference", "customer_name", "customer_email"]
    date_hierarchy = "placed_at"
    inlines = [
        OrderLineInline,
        OrderKitLineInline,
        OrderEventInline,
        PackingProblemInline,
    ]


@admin.register(ReturnToStockTask)
class ReturnToStockTaskAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "order",
        "sku",
        "location",
        "quantity",
        "status",
        "created_at",
        "put_away_by",
        "put_away_at",
    ]
    list_filter = ["status", "location"]
    actions = ["confirm_put_away"]

    def has_put_away_permission(self, request) -> bool:
        # The rows stay read-only; confirming a put-away is changing the task.
        return request.user.has_perm("orders.change_returntostocktask")

    @admin.action(
        description="Confirm the units are back on the shelf", permissions=["put_away"]
    )
    def confirm_put_away(self, request, queryset) -> None:
        actor = Actor.of_user(request.user)
        for task in queryset.filter(status=ReturnToStockTask.Status.OPEN):
            services.return_to_stock_confirm(task_id=task.pk, actor=actor)
        messages.success(request, "Confirmed: the units are available again.")
