"""Who acts, and who may do what where: the one access module.

- **Who acts**: ``Actor``, the one type every service takes as ``actor`` (the name
  timelines and the ledger record, from which system, the caller's request key, and
  the signed-in member of staff when a person acts).
- **Through the API**: scopes and channel binding (below).
- **At a store**: staff act at the locations they are members of, managers
  (``MANAGER_PERMISSION``) at every location; a store's work anywhere else reads as
  not found, so work at another store is a 404, never a hint that it exists
  (``ensure_may_act_at``). Through the API, a store's staff record stock events at
  their own stores only (``ensure_may_record_at``).

Kept free of app imports so every app can use it: the locations are named by their
label (``inventory.Location``), as settings name the user model, and a member's stores
reached through the user's own relation (``staff_memberships``).

An API token carries scopes (what kinds of call it may make) and may be bound to a
channel (``bound_channel_code``): then it acts for that channel only, and never writes
master data, which is the retailer's. A member of staff signed in to the back-office
reaches the API with the role the screens give them (``staff_scopes``). docs/security.md
is the table.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from rest_framework.request import Request

from .errors import NotFound, PermissionRefused


class ChannelNotPermitted(PermissionRefused):
    code = "channel_not_permitted"


class ScopeMissing(PermissionRefused):
    code = "scope_missing"


class Scope(StrEnum):
    """What kind of call a caller may make; each API view names the scope it needs to
    read and the one it needs to write."""

    READ_MASTER_DATA = "read_master_data"  # products, SKUs, channels, locations
    WRITE_MASTER_DATA = "write_master_data"  # never held by a channel-bound token
    READ_AVAILABILITY = (
        "read_availability"  # availability, its change feed, sync health
    )
    POST_STOCK_EVENTS = "post_stock_events"  # movements in, and the ledger read back
    RESERVE_AND_ORDER = "reserve_and_order"  # holds, orders, return-to-stock tasks
    RETURNS = "returns"
    SNAPSHOTS = "snapshots"
    EXCEPTIONS = "exceptions"  # the exception queue; never a channel's token's
    WEBHOOKS = "webhooks"
    # Units protected for a channel (PUT/DELETE /allocations/); a channel's token
    # holding it manages its own channel's only.
    MANAGE_ALLOCATIONS = "manage_allocations"


# The retailer's own: a token bound to a channel never holds these. Master data is
# every channel's; the exception queue is the retailer's work, across channels.
NEVER_FOR_A_CHANNEL = frozenset({Scope.WRITE_MASTER_DATA, Scope.EXCEPTIONS})
# Held only when the token is issued with it (``--scopes``), bound or not: by
# default only the back office protects units for a channel.
ONLY_WHEN_GRANTED = frozenset({Scope.MANAGE_ALLOCATIONS})


def default_scopes(*, bound: bool) -> list[str]:
    """What a token may do unless it is issued with fewer: everything an integration
    did before scopes existed, and no more: a channel's token writes no master data
    and reads no exception queue, and no token manages allocations unless granted."""
    return [
        scope.value
        for scope in Scope
        if scope not in ONLY_WHEN_GRANTED
        and not (bound and scope in NEVER_FOR_A_CHANNEL)
    ]


MANAGER_PERMISSION = "inventory.act_at_every_location"
# A store's staff reach the API for what their screens do: look things up (master
# data and availability everywhere, as the pickup screen shows other stores' stock),
# read their stores' ledger and exceptions, and record stock events at the stores
# they work at (the movements and exceptions APIs narrow to the member's stores).
STORE_STAFF_SCOPES = frozenset(
    {
        Scope.READ_MASTER_DATA,
        Scope.READ_AVAILABILITY,
        Scope.POST_STOCK_EVENTS,
        Scope.EXCEPTIONS,
    }
)


def staff_scopes(user) -> frozenset[str]:
    """A signed-in user's scopes: a manager's are every scope, a store's staff's
    ``STORE_STAFF_SCOPES``, anyone else's (``is_staff`` or not) none."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    if user.has_perm(MANAGER_PERMISSION):
        return frozenset(Scope)
    if user.store_memberships.exists():
        return STORE_STAFF_SCOPES
    return frozenset()


def is_store_staff_only(request: Request) -> bool:
    """A signed-in member of a store's staff (not a manager, not a token): what they
    do through the API is limited to the stores they work at."""
    return request.auth is None and not request.user.has_perm(MANAGER_PERMISSION)


def ensure_may_write_master_data(request: Request) -> None:
    bound = bound_channel_code(request)
    if bound is not None:
        raise ChannelNotPermitted(
            "Products, SKUs, channels and locations are the retailer's master data: "
            f"a token bound to channel {bound!r} may read them, not write them.",
            channel=bound,
        )


def bound_channel_code(request: Request) -> str | None:
    return getattr(request.auth, "bound_channel_code", None)


def with_bound_channel(request: Request, payload: Any) -> Any:
    """A token bound to a channel need not name it in every body: ``channel`` is filled
    in when left out. Anything but a JSON object is passed on for its serializer to
    refuse."""
    bound = bound_channel_code(request)
    if bound and isinstance(payload, dict) and "channel" not in payload:
        return {**payload, "channel": bound}
    return payload


def ensure_may_act_for_channel(request: Request, channel_code: str) -> None:
    bound = bound_channel_code(request)
    if bound is not None and bound != channel_code:
        raise ChannelNotPermitted(
            f"This token acts only for channel {bound!r}, not {channel_code!r}.",
            channel=bound,
        )


@dataclass(frozen=True)
class Actor:
    """Who acts, the one type every service takes as ``actor``: the name timelines and
    the ledger record (``user:<username>``, ``token:<name>``, ``system:<job>``), from
    which system (a channel's code, ``back-office`` or ``system``), the caller's key
    for the request (the same key again changes nothing), and the signed-in member of
    staff when a person acts, for the questions of who may act where."""

    name: str
    source: str = ""
    request_reference: str = ""
    user: Any = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def of_user(cls, user, *, source: str = "back-office") -> "Actor":
        """A member of staff signed in to the screens or the back-office."""
        return cls(name=f"user:{user.get_username()}", source=source, user=user)

    @classmethod
    def of_request(
        cls, request: Request, *, source: str = "", request_reference: str = ""
    ) -> "Actor":
        """Whoever calls the API: an integration's token (``token:<name>``, from its
        channel, or ``integration`` when it is bound to none) or a signed-in member
        of staff (``user:<username>``, from the ``back-office``)."""
        if request.auth is not None and hasattr(request.auth, "name"):
            return cls(
                name=f"token:{request.auth.name}",
                source=source or bound_channel_code(request) or "integration",
                request_reference=request_reference,
            )
        user = request.user
        return cls(
            name=f"user:{user.get_username()}",
            source=source or "back-office",
            request_reference=request_reference,
            user=user if user.is_authenticated else None,
        )

    @classmethod
    def recorded(cls, name: str) -> "Actor":
        """Who a record names (a ledger entry's, a run's starter), acting again."""
        return cls.system(name) if name.startswith("system") else cls(name=name)

    @property
    def person(self):
        """The member of staff acting; a job or a token is nobody, and may act at no
        store."""
        return self.user if self.user is not None else AnonymousUser()

    @classmethod
    def system(cls, job: str) -> "Actor":
        """A scheduled job or the system itself (``system:<job>``)."""
        name = job if job.startswith("system") else f"system:{job}"
        return cls(name=name, source="system")


# ------------------------------------------------------------- who may act where


def sees_every_location(user) -> bool:
    """A manager: acts at every location without a membership."""
    return user.is_active and user.has_perm(MANAGER_PERMISSION)


def staff_locations(*, user) -> QuerySet:
    """The active locations a member of staff works at; a manager's are all of them."""
    locations = apps.get_model("inventory", "Location").objects
    if not user.is_authenticated:
        return locations.none()
    active = locations.filter(is_active=True)
    if sees_every_location(user):
        return active
    return active.filter(staff_memberships__user=user)


def may_act_at(*, user, location_id: int) -> bool:
    return staff_locations(user=user).filter(pk=location_id).exists()


def ensure_may_act_at(*, user, location_id: int, what: str) -> None:
    """Work at a store the user does not work at is not found for them."""
    if not may_act_at(user=user, location_id=location_id):
        raise NotFound(f"No {what}.")


def stores_of(request) -> list:
    """The locations the signed-in member of staff works at, read once per request
    however many parts of the screen ask."""
    if not hasattr(request, "staff_stores"):
        request.staff_stores = list(staff_locations(user=request.user))
    return request.staff_stores


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
