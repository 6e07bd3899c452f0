"""Future supply in the back-office: purchase orders and transfers on their way
(Supply) with their timeline and the units promised against them, read-only (the
ledger writes them; a date moves or a purchase order is called off through the
supply API), and the lanes between locations (TransferRoute: lead time and cost per
unit), which a manager sets here. Imported by ``inventory.admin``, where the admin
finds this app's pages."""

from decimal import Decimal

from django import forms
from django.contrib import admin

from .admin import ReadOnlyAdmin, ReadOnlyInline
from .models import Supply, SupplyEvent, SupplyPromise, TransferRoute


class SupplyEventInline(ReadOnlyInline):
    """The supply's timeline: announced, rescheduled, received, called off."""

    model = SupplyEvent
    fields = ["at", "action", "from_status", "to_status", "actor", "note", "detail"]
    readonly_fields = fields


class SupplyPromiseInline(ReadOnlyInline):
    """The pre-orders' and back-orders' units waiting for it, oldest first (the
    order they land in)."""

    model = SupplyPromise
    fields = [
        "promised_at", "channel", "owner_kind", "owner_id", "units", "status",
        "expected_at", "closed_at",
    ]  # fmt: skip
    readonly_fields = fields


@admin.register(Supply)
class SupplyAdmin(ReadOnlyAdmin):
    list_display = [
        "reference", "kind", "sku", "location", "expected_at", "quantity",
        "received", "status",
    ]  # fmt: skip
    list_filter = ["status", "kind", ("location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["reference", "sku__code"]
    list_select_related = ["sku", "location"]
    date_hierarchy = "expected_at"
    inlines = [SupplyEventInline, SupplyPromiseInline]


class TransferRouteForm(forms.ModelForm):
    # Left empty, a lane costs nothing a unit (the model's default), as lanes did
    # before they had a cost.
    cost_per_unit = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text="What moving one unit along this lane costs (carrier, handling); "
        "empty: nothing.",
    )

    class Meta:
        model = TransferRoute
        fields = ["from_location", "to_location", "lead_time_hours", "cost_per_unit"]

    def clean_cost_per_unit(self) -> Decimal:
        cost = self.cleaned_data.get("cost_per_unit")
        return Decimal(0) if cost is None else cost


@admin.register(TransferRoute)
class TransferRouteAdmin(admin.ModelAdmin):
    """A lane: a transfer sent without a date is due this long after it left, and
    each unit moved along it costs ``cost_per_unit``. Transfer proposals pair only
    locations with a lane from the one with too much to the one running out."""

    list_display = ["from_location", "to_location", "lead_time_hours", "cost_per_unit"]
    list_filter = [("from_location", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["from_location__code", "to_location__code"]
    list_select_related = ["from_location", "to_location"]
    autocomplete_fields = ["from_location", "to_location"]
    form = TransferRouteForm
    fields = ["from_location", "to_location", "lead_time_hours", "cost_per_unit"]
