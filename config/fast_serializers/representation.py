"""``to_representation`` compiled from a serializer's declared fields (the package's
docstring says how)."""

import functools
import inspect
import operator
from collections.abc import Callable, Mapping
from datetime import datetime
from types import BuiltinFunctionType, FunctionType, MethodType

from django.core.exceptions import ObjectDoesNotExist
from django.db.models.manager import BaseManager
from rest_framework import ISO_8601, serializers
from rest_framework.fields import Field, SkipField, empty
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from . import FastListSerializer, FastSerializer
from .plumbing import (
    CHILD,
    SKIP,
    Unsure,
    defined_by,
    keeps,
    live,
)

# -- representation ---------------------------------------------------------------

_MAPPING: dict[type, bool] = {}


def _is_mapping(kind: type) -> bool:
    """DRF reads a Mapping's keys, anything else's attributes."""
    mapping = _MAPPING.get(kind)
    if mapping is None:
        mapping = _MAPPING[kind] = issubclass(kind, Mapping)
    return mapping


def representer(serializer: serializers.Serializer, path: tuple) -> Callable:
    """Serializer.to_representation for ``serializer``'s readable fields: each step
    answers the field's value, or SKIP where DRF leaves the field out. An instance
    that is a Mapping is read by key throughout, anything else by attribute."""
    readable = [field for field in serializer.fields.values() if not field.write_only]
    steps = [(field.field_name, *_steps(field, path)) for field in readable]
    by_attribute = tuple((name, step) for name, step, _, _ in steps)
    by_key = tuple((name, step) for name, _, step, _ in steps)
    # The fields read by plain attribute (dotted or not), all at once: one C-level
    # getter for the row, then each value kept as it is when its type is the one
    # the field writes unchanged (most of a row: codes, quantities). Anything else
    # (None, a method, a value to convert) takes the field's own step; a row the
    # getter cannot read whole (a missing attribute, None half-way along a dotted
    # source) is read field by field.
    sources = [plain[0] for _, _, _, plain in steps if plain is not None]
    whole = operator.attrgetter(*sources) if len(sources) > 1 else None
    plan = []
    for name, step, _, plain in steps:
        plan.append((name, step, plain[1] if plain is not None else None))
    plan = tuple(plan)

    def field_by_field(call, instance, fields):
        ret = {}
        for name, step in fields:
            value = step(call, instance)
            if value is not SKIP:
                ret[name] = value
        return ret

    def represent(call, instance):
        if _is_mapping(type(instance)):
            return field_by_field(call, instance, by_key)
        if whole is None:
            return field_by_field(call, instance, by_attribute)
        try:
            values = iter(whole(instance))
        except Exception:  # noqa: BLE001 (each field then says what DRF would)
            return field_by_field(call, instance, by_attribute)
        ret = {}
        for name, step, native in plan:
            if native is not None:
                value = next(values)
                if type(value) is native:
                    ret[name] = value
                    continue
            value = step(call, instance)
            if value is not SKIP:
                ret[name] = value
        return ret

    return represent


def _steps(
    field: Field, path: tuple
) -> tuple[Callable, Callable, tuple[str, type] | None]:
    """The field's value from an instance that is not a Mapping, and from any; and,
    for a field read by plain attributes, its dotted source and the type it writes
    unchanged (None otherwise)."""
    convert, native = _converter(field, path)
    if convert is None or not keeps(type(field), get_attribute=(Field,)):
        step = _own_field_step(field.field_name, path)
        return step, step, None
    read = _Reader(field, path)

    def finish(call, value):
        if value is None or value is SKIP:
            return value
        return convert(call, value)

    if field.source == "*":
        return finish, finish, None

    def any_step(call, instance):
        return finish(call, read(call, instance))

    first, *rest = field.source_attrs  # most fields: one attribute, rest empty
    if any(hasattr(None, attr) for attr in field.source_attrs):
        return any_step, any_step, None
    missing, drf = read.missing, read.drf

    def step(call, instance):
        try:
            value = getattr(instance, first)
            if callable(value):
                value = _called(value)
            for attr in rest:
                if value is None:
                    return finish(call, missing(call, instance))
                if _is_mapping(type(value)):
                    value = value[attr]
                else:
                    value = getattr(value, attr)
                if callable(value):
                    value = _called(value)
        except (AttributeError, KeyError, ObjectDoesNotExist, Unsure):
            return finish(call, drf(call, instance))
        if value is None or type(value) is native:
            return value
        return convert(call, value)

    return step, any_step, (".".join(field.source_attrs), native)


def _own_field_step(name: str, path: tuple) -> Callable:
    """The field rendered by the serializer's own copy of it, as DRF's
    Serializer.to_representation renders each field."""

    def step(call, instance):
        field = live(call.root, path).fields[name]
        try:
            attribute = field.get_attribute(instance)
        except SkipField:
            return SKIP
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    return step


class _Reader:
    """A field's DRF get_attribute, step by step through its source: attributes,
    mapping keys, methods that take no arguments. Whatever it cannot vouch for is read
    by the field's own get_attribute (``drf``)."""

    def __init__(self, field: Field, path: tuple) -> None:
        self.attrs = tuple(field.source_attrs)
        self.field, self.path = field, path
        self.default = field.default
        # A callable default may read the context: the serializer's own copy reads.
        self.own_field = self.default is not empty and callable(self.default)
        # What get_attribute answers when an attribute is missing, as one is when a
        # step of a dotted source is None (an entry with no other location).
        if self.own_field or any(hasattr(None, attr) for attr in self.attrs):
            self.missing = self.drf
        elif self.default is not empty:
            self.missing = self.defaulted
        elif field.allow_null:
            self.missing = lambda call, instance: None
        elif not field.required:
            self.missing = lambda call, instance: SKIP
        else:
            self.missing = self.drf

    def __call__(self, call, instance):
        value = instance
        try:
            for attr in self.attrs:
                if value is None:
                    return self.missing(call, instance)
                if _is_mapping(type(value)):
                    value = value[attr]
                else:
                    value = getattr(value, attr)
                if callable(value):
                    value = _called(value)
        except (KeyError, AttributeError, ObjectDoesNotExist, Unsure):
            return self.drf(call, instance)
        return value

    def defaulted(self, call, instance):
        return SKIP if getattr(call.root.root, "partial", False) else self.default

    def drf(self, call, instance):
        field = self.field
        # A default gives way to a partial update, which the template knows nothing of.
        if self.own_field or (
            self.default is not empty and getattr(call.root.root, "partial", False)
        ):
            field = live(call.root, self.path).fields[field.field_name]
        try:
            return field.get_attribute(instance)
        except SkipField:
            return SKIP


_TAKES_NO_ARGUMENTS: dict[FunctionType, bool] = {}


def _called(value):
    """What DRF makes of a callable attribute: a method that takes no arguments is
    called, other callables (a related manager) are the value."""
    if type(value) is MethodType:
        simple = _TAKES_NO_ARGUMENTS.get(value.__func__)
        if simple is None:
            simple = _TAKES_NO_ARGUMENTS[value.__func__] = all(
                parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
                or parameter.default is not parameter.empty
                for parameter in inspect.signature(value).parameters.values()
            )
        return value() if simple else value
    if isinstance(value, FunctionType | BuiltinFunctionType | functools.partial):
        raise Unsure
    return value


class _NotPlain:
    """No value passes through a converter unchanged for being of its type."""


# The to_representation methods compiled here, each with the classes it may reach.
_REPRESENTATIONS = {
    serializers.CharField: (serializers.CharField, Field),
    serializers.IntegerField: (serializers.IntegerField, Field),
    serializers.BigIntegerField: (
        serializers.BigIntegerField,
        serializers.IntegerField,
        Field,
    ),
    serializers.BooleanField: (serializers.BooleanField, Field),
    serializers.ChoiceField: (serializers.ChoiceField, Field),
    serializers.DateTimeField: (serializers.DateTimeField, Field),
    serializers.Serializer: (serializers.Serializer, serializers.BaseSerializer, Field),
    FastSerializer: (
        FastSerializer,
        serializers.Serializer,
        serializers.BaseSerializer,
        Field,
    ),
    serializers.ListSerializer: (
        serializers.ListSerializer,
        serializers.BaseSerializer,
        Field,
    ),
    FastListSerializer: (
        FastListSerializer,
        serializers.ListSerializer,
        serializers.BaseSerializer,
        Field,
    ),
}


def _converter(field: Field, path: tuple) -> tuple[Callable | None, type]:
    """The field's to_representation for a value that is not None, if its type is
    one compiled here (else None), and the type whose values it returns unchanged."""
    cls = type(field)
    owner = defined_by(cls, "to_representation")
    if owner not in _REPRESENTATIONS or not keeps(
        cls, to_representation=_REPRESENTATIONS[owner]
    ):
        return None, _NotPlain
    if owner is serializers.CharField:
        return (lambda call, value: str(value)), str
    if owner is serializers.IntegerField:
        return (lambda call, value: int(value)), int
    if owner is serializers.BigIntegerField:
        own = field.to_representation
        if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING):
            return (lambda call, value: own(value)), _NotPlain
        return (lambda call, value: own(value)), int
    if owner is serializers.BooleanField:
        own = field.to_representation
        return (lambda call, value: own(value)), bool
    if owner is serializers.ChoiceField:
        return _choice_converter(field)
    if owner is serializers.DateTimeField and keeps(
        cls,
        enforce_timezone=(serializers.DateTimeField,),
        default_timezone=(serializers.DateTimeField,),
    ):
        return _moment_converter(field), _NotPlain
    if owner in (serializers.Serializer, FastSerializer):
        return representer(field, (*path, field.field_name)), _NotPlain
    if owner in (
        serializers.ListSerializer,
        FastListSerializer,
    ) and isinstance(field.child, serializers.Serializer):
        child, _ = _converter(field.child, (*path, field.field_name, CHILD))
        if child is None:
            return None, _NotPlain

        def many(call, value):
            items = value.all() if isinstance(value, BaseManager) else value
            return [child(call, item) for item in items]

        return many, _NotPlain
    return None, _NotPlain


def _choice_converter(field: serializers.ChoiceField) -> tuple[Callable, type]:
    own, choices = field.to_representation, field.choice_strings_to_values

    def convert(call, value):
        if type(value) is str and value:
            return choices.get(value, value)
        return own(value)

    # Choices that are their own text (TextChoices) answer any text unchanged.
    same = all(type(key) is str and key == text for text, key in choices.items())
    return convert, str if same else _NotPlain


def _moment_converter(field: serializers.DateTimeField) -> Callable:
    own, fixed_zone = field.to_representation, hasattr(field, "timezone")

    def convert(call, value):
        output = getattr(field, "format", api_settings.DATETIME_FORMAT)
        if (
            fixed_zone
            or output is None
            or type(value) is not datetime
            or output.lower() != ISO_8601
            or value.utcoffset() is None
        ):
            return own(value)
        zone = call.current_zone()
        if zone is None:
            return own(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return own(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert
