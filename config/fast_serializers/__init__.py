"""Serializers made fast from their own declared fields: one definition per resource.

DRF's per-field machinery costs a batch of a thousand movements some 125 ms (checking
the lines, writing the answer) on the bench machine, a third of posting the batch;
compiled from the same fields, about 25 ms. A serializer that opts in by putting
``FastSerializer`` first among its bases keeps its declared fields as the one
definition, and gets two methods compiled from them, once per class (from an instance
made without arguments, so the class's fields must not depend on its arguments or
context):

``to_representation``
    For each readable field, a getter for its ``source_attrs`` (attributes, mapping
    keys, methods that take no arguments, as DRF's ``get_attribute``), then a
    converter chosen by the field's type: ``CharField``, ``IntegerField``,
    ``BigIntegerField``, ``BooleanField`` and ``ChoiceField`` values as DRF writes
    them, ``DateTimeField`` in the current time zone as DRF writes it (UTC as ``Z``),
    nested serializers (``source="*"`` or not) and ``many=True`` lists of them
    compiled the same way, ``None`` as ``None``. Whatever the getter is unsure of (a
    missing attribute, a callable it cannot vouch for) is asked of the field's own
    ``get_attribute``; a value of an unusual type goes through the field's own
    ``to_representation``; a field of any other type, or whose class overrides these
    methods, is rendered by the serializer's own copy of that field, as DRF does.
    ``many=True`` makes a ``FastListSerializer``, which looks the time zone up once
    for the whole list. The fields read by plain attributes are read all at once
    per instance (``operator.attrgetter``), each value kept as it is when its type
    is the one its field writes unchanged; any other value goes through its field's
    step, and an instance the getter cannot read whole is read field by field.

``run_validation``
    A check of simply well-formed input: a JSON object of known fields, each of the
    right type (no coercion: ``"5"`` is not an integer here, whatever the field would
    make of it), within its bounds, matching its regex validators, a known choice,
    not blank unless allowed, free of NUL and surrogate characters, nested objects
    and lists of them likewise, and ``ListField`` lists of such values (a query's
    repeated codes). The serializers' own ``validate_<field>`` methods and
    ``validate()`` run on it as DRF runs them. Anything else, including a
    ``ValidationError`` from one of those methods, goes to DRF's own
    ``run_validation`` on the same data, so every error message and shape is DRF's.
    Fields of any other type are validated by the serializer's own copy of the field.
    A serializer whose class overrides DRF's validation machinery (other than
    ``StrictInputSerializer``'s refusal of unknown fields), or has serializer-level
    validators, is always validated by DRF; so is a partial update.

Neither path builds the serializer's ``fields`` (which DRF deep-copies from the
declared fields for every instance) unless something needs the serializer's own copy:
a field of a type not compiled here, a callable default, a nested serializer's own
``validate`` methods. ``tests/config/test_fast_serializers.py`` holds both paths to
DRF's own output.
"""

from typing import Any

from django.db.models.manager import BaseManager
from rest_framework import serializers
from rest_framework.fields import empty

from .plumbing import Call, DrfDecides, defined_by


class FastSerializer:
    """Opt-in mixin: ``class X(FastSerializer, serializers.Serializer)`` (or
    ``ModelSerializer``). See the module's docstring. With ``many=True`` it is listed
    by ``FastListSerializer`` unless its ``Meta`` names a list serializer class."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        meta = getattr(cls, "Meta", None)
        if meta is None:
            cls.Meta = type("Meta", (), {"list_serializer_class": FastListSerializer})
        elif hasattr(meta, "list_serializer_class"):
            pass  # the class's own choice
        elif "Meta" in vars(cls):
            meta.list_serializer_class = FastListSerializer
        else:
            # Inherited from a serializer that may not be fast: a Meta of its own.
            cls.Meta = type(
                "Meta", (meta,), {"list_serializer_class": FastListSerializer}
            )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return plans(type(self)).represent(Call(self), instance)

    def run_validation(self, data: Any = empty) -> Any:
        check = plans(type(self)).check
        if (
            check is not None
            and type(data) is dict
            and not self.read_only
            and not getattr(self.root, "partial", False)
        ):
            try:
                return check(self, data)
            except DrfDecides:
                pass
        return super().run_validation(data)


class FastListSerializer(serializers.ListSerializer):
    """DRF's ListSerializer, rendering a FastSerializer's items with one look-up of
    the current time zone for the whole list (it costs more than rendering a field)."""

    def to_representation(self, data: Any) -> list:
        child = self.child
        if defined_by(type(child), "to_representation") is not FastSerializer:
            return super().to_representation(data)
        represent, call = plans(type(child)).represent, Call(child)
        items = data.all() if isinstance(data, BaseManager) else data
        return [represent(call, item) for item in items]


class _Plans:
    __slots__ = ("represent", "check")

    def __init__(self, represent, check) -> None:
        self.represent = represent
        self.check = check


_PLANS: dict[type, _Plans] = {}


def plans(cls: type) -> _Plans:
    plans = _PLANS.get(cls)
    if plans is None:
        # Two threads may compile the same class at once; either result is the same.
        # The compilers read these classes; imported on the first compilation.
        from .representation import representer
        from .validation import checker

        template = cls()
        plans = _PLANS[cls] = _Plans(representer(template, ()), checker(template, ()))
    return plans
