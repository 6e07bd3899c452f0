"""Who may see and act on a store's work (pickup tasks, returns): the one place the
store screens and their services ask. Staff act at the locations they are members
of, managers at every location (``inventory.selectors.staff_locations``); anything
else reads as not found, so work at another store is a 404, never a hint that it
exists. Through the API, a store's staff record stock events at their own stores
only (``ensure_may_record_at``)."""

from config.access import is_store_staff_only
from config.errors import NotFound, PermissionRefused

from .selectors import may_act_at, sees_every_location, staff_locations

__all__ = [
    "actor_of",
    "ensure_may_act_at",
    "ensure_may_record_at",
    "sees_every_location",
    "staff_locations",
    "stores_of",
]


def ensure_may_act_at(*, user, location_id: int, what: str) -> None:
    if not may_act_at(user=user, location_id=location_id):
        raise NotFound(f"No {what}.")


class LocationNotPermitted(PermissionRefused):
    code = "location_not_permitted"


def ensure_may_record_at(request, location) -> None:
    """A store's staff member, signed in to the API, records stock only where they
    work; tokens and managers anywhere. The location was named in the request, so
    refusing it reveals nothing."""
    if not is_store_staff_only(request):
        return
    if location.pk not in {store.pk for store in stores_of(request)}:
        raise LocationNotPermitted(
            f"You record stock at the stores you work at, not {location.code}.",
            location=location.code,
        )


def stores_of(request) -> list:
    """The locations the signed-in member of staff works at, read once per request
    however many parts of the screen ask."""
    if not hasattr(request, "staff_stores"):
        request.staff_stores = list(staff_locations(user=request.user))
    return request.staff_stores


def actor_of(user) -> str:
    """The name audit records give a member of staff."""
    return f"user:{user.get_username()}"
