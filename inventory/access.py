"""Who may see and act on a store's work (pickup tasks, returns): the one place the
store screens and their services ask. Staff act at the locations they are members
of, managers at every location (``inventory.selectors.staff_locations``); anything
else reads as not found, so work at another store is a 404, never a hint that it
exists."""

from config.errors import NotFound

from .selectors import may_act_at, sees_every_location, staff_locations

__all__ = [
    "actor_of",
    "ensure_may_act_at",
    "sees_every_location",
    "staff_locations",
    "stores_of",
]


def ensure_may_act_at(*, user, location_id: int, what: str) -> None:
    if not may_act_at(user=user, location_id=location_id):
        raise NotFound(f"No {what}.")


def stores_of(request) -> list:
    """The locations the signed-in member of staff works at, read once per request
    however many parts of the screen ask."""
    if not hasattr(request, "staff_stores"):
        request.staff_stores = list(staff_locations(user=request.user))
    return request.staff_stores


def actor_of(user) -> str:
    """The name audit records give a member of staff."""
    return f"user:{user.get_username()}"
