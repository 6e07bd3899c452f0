"""The API's one permission: the caller holds the scope the view names for what it is
asked (``read_scope`` for a read, ``write_scope`` for a write).

An integration's scopes are its token's; a signed-in member of staff's are their
role's (``config.access.staff_scopes``), so the API lets nobody do more than the
screens and the admin let them. Which channel, and which store, a caller may act for
is checked by the views, where the request names them.
"""

from django.core.exceptions import ImproperlyConfigured
from rest_framework.permissions import SAFE_METHODS, BasePermission

from config.access import (
    Scope,
    ScopeMissing,
    ensure_may_write_master_data,
    staff_scopes,
)

from .models import Integration


def scope_needed(view, method: str) -> Scope:
    name = "read_scope" if method in SAFE_METHODS else "write_scope"
    needed = getattr(view, name, None) or getattr(view, "read_scope", None)
    if needed is None:
        raise ImproperlyConfigured(f"{type(view).__name__} names no {name}.")
    return needed


class HoldsTheScope(BasePermission):
    message = "Send 'Authorization: Token <token>', or sign in."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, Integration):
            held = user.token.scopes
        elif user and user.is_authenticated:
            held = staff_scopes(user)
        else:
            return False
        needed = scope_needed(view, request.method)
        if needed is Scope.WRITE_MASTER_DATA:
            ensure_may_write_master_data(request)
        if needed not in held:
            who = "This token" if isinstance(user, Integration) else "Your role"
            raise ScopeMissing(
                f"{who} does not carry the {needed.value!r} scope this call needs.",
                scope=needed.value,
            )
        return True
