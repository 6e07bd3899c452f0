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
        "scope_labels",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["channel", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = [
        "name", "channel", "scope_labels", "prefix", "created_at", "last_used_at",
        # Revoking is the action below; a revoked token stays revoked.
        "revoked_at",
    ]  # fmt: skip
    actions = ["revoke"]

    @admin.display(description="scopes")
    def scope_labels(self, token: ApiToken) -> str:
        return token.scope_labels or "none"

    def has_add_permission(self, request) -> bool:
        return False

    # Admin actions follow Django's permissions: revoking is changing a token.
    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        names = list(
            queryset.filter(revoked_at__isnull=True).values_list("name", flat=True)
        )
        for name in names:
            api_token_revoke(name=name)
        self.message_user(request, f"Revoked {len(names)} token(s).")
