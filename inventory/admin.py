from django.contrib import admin

from .models import Location


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
    ]
    list_filter = [
        "kind",
        "pickup_enabled",
        "ship_from_store_enabled",
        "is_active",
        "country",
    ]
    search_fields = ["code", "name", "city", "postal_code"]
