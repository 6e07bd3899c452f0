"""The catalogue in the admin: products with their SKUs, SKUs (cost and price
included), channels."""

from django.contrib import admin

from .models import Channel, Product, Sku


class SkuInline(admin.TabularInline):
    model = Sku
    fields = ["code", "name", "barcode", "cost", "price", "is_active"]
    extra = 0
    show_change_link = True


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
        "cost",
        "price",
        "is_active",
        "updated_at",
    ]
    list_filter = ["is_active", "product"]
    search_fields = ["code", "name", "barcode", "product__code"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "safety_buffer",
        "reservation_ttl_seconds",
        "allow_future_by_default",
        "is_active",
    ]
    list_filter = ["kind", "is_active", "allow_future_by_default"]
    search_fields = ["code", "name"]
