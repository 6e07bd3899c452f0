"""Default API permission: an integration's token, or a signed-in staff member."""

from rest_framework.permissions import BasePermission

from .models import Integration


class IsIntegrationOrStaff(BasePermission):
    message = "Send 'Authorization: Token <token>', or sign in as staff."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, Integration):
            return True
        return bool(user and user.is_authenticated and user.is_staff)
