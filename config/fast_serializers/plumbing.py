"""What the two compilers share: one call of a compiled representation, the signals
that hand a value or an input back to DRF, and reading a serializer's classes."""

from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers


class Call:
    """One call of a compiled representation: the serializer it runs for, and the
    current time zone once it has been looked up."""

    __slots__ = ("root", "zone")

    def __init__(self, root: serializers.BaseSerializer) -> None:
        self.root = root
        self.zone = UNKNOWN

    def current_zone(self):
        """DRF's DateTimeField's default zone: None where USE_TZ is off."""
        zone = self.zone
        if zone is UNKNOWN:
            zone = timezone.get_current_timezone() if settings.USE_TZ else None
            self.zone = zone
        return zone


class DrfDecides(Exception):
    """The input is not simply well formed, or the compiled check cannot vouch for
    it: DRF's own validation decides."""


class Unsure(Exception):
    """The getter cannot vouch for DRF's reading: the field's get_attribute reads."""


# A field DRF leaves out of the representation (its SkipField).
SKIP = object()
# A time zone not looked up yet.
UNKNOWN = object()
# In a path from the serializer being run to a nested one: a list's child.
CHILD = object()


def live(root: serializers.BaseSerializer, path: tuple) -> Any:
    """The nested serializer at ``path`` in the serializer being run (its own bound
    copy, with its context): for fields and methods that may depend on it."""
    serializer = root
    for step in path:
        serializer = serializer.child if step is CHILD else serializer.fields[step]
    return serializer


def defined_by(cls: type, name: str) -> type | None:
    """The class whose own ``name`` an instance of ``cls`` uses."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def keeps(cls: type, **methods: tuple[type, ...]) -> bool:
    """Only the listed classes define each named method anywhere in ``cls``'s MRO: no
    other class takes part in it, first or through ``super()``."""
    return all(
        all(klass in owners for klass in cls.__mro__ if name in vars(klass))
        for name, owners in methods.items()
    )
