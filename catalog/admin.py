"""The catalogue in the admin: products with their SKUs, SKUs (cost and price
included, a kit's components), channels."""

from django.contrib import admin

from .models import Channel, KitComponent, Product, Sku


class SkuInline(admin.TabularInline):
    model = Sku
    fields = ["code", "name", "barcode", "cost", "price", "is_active"]
    extra = 0
    show_change_link = True


class KitComponentInline(admin.TabularInline):
    """A kit's parts, read here; written through the API (``PUT /api/v1/skus/``),
    whose checks (no stock on the kit, no kit as a part) a form would bypass."""

    model = KitComponent
    fk_name = "kit"
    fields = ["component", "quantity"]
    readonly_fields = ["component", "quantity"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "brand", "is_active", "updated_at"]
    list_filter = ["is_active", "brand"]
    search_fields = ["code", "name", "brand"]
    inlines = [SkuInline]


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "product",
        "barcode",
        "safety_buffer",
        "future_promise_limit",
        "is_kit",
        "cost",
        "price",
        "is_active",
        "updated_at",
    ]
    list_filter = ["is_active", "is_kit", "product"]
    search_fields = ["code", "name", "barcode", "product__code"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]
    inlines = [KitComponentInline]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "safety_buffer",
        "reservation_ttl_seconds",
        "allow_future_by_default",
        "allow_kit_split",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "allow_future_by_default"]
    search_fields = ["code", "name"]
