from django.contrib import admin

from .models import ApiToken
from .services import api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued with ``manage.py create_api_token`` (the raw token is shown
    once); here they can be looked up and revoked."""

    list_display = [
        "name",
        "channel",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["channel", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["name", "channel", "prefix", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        names = list(
            queryset.filter(revoked_at__isnull=True).values_list("name", flat=True)
        )
        for name in names:
            api_token_revoke(name=name)
        self.message_user(request, f"Revoked {len(names)} token(s).")
