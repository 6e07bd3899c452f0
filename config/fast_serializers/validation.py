"""``run_validation`` compiled from a serializer's declared fields: the check of
simply well-formed input (the package's docstring says how)."""

import re
from collections.abc import Callable
from typing import Any

from django.core import validators as django_validators
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.fields import Field, SkipField, empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from config.api import (
    StrictBooleanField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)

from . import FastSerializer
from .plumbing import CHILD, SKIP, DrfDecides, defined_by, keeps, live

# -- validation --------------------------------------------------------------------

# Serializer methods whose behaviour the check reproduces for a JSON object, with the
# classes that may define them. StrictInputSerializer only adds a refusal of unknown
# fields, which the check leaves to DRF like any other key it does not know.
_SERIALIZER_METHODS = {
    "run_validation": (FastSerializer, serializers.Serializer, Field),
    "to_internal_value": (
        StrictInputSerializer,
        serializers.Serializer,
        serializers.BaseSerializer,
        Field,
    ),
    "validate_empty_values": (Field,),
    "run_validators": (serializers.Serializer, Field),
    "set_value": (serializers.Serializer,),
    "get_value": (serializers.Serializer, Field),
}
_LIST_METHODS = {
    "run_validation": (serializers.ListSerializer, Field),
    "to_internal_value": (
        serializers.ListSerializer,
        serializers.BaseSerializer,
        Field,
    ),
    "run_child_validation": (serializers.ListSerializer,),
    "validate": (serializers.ListSerializer,),
    "validate_empty_values": (Field,),
    "run_validators": (Field,),
    "get_value": (serializers.ListSerializer, Field),
}
# A ListField of a field compiled here (a query's repeated codes), likewise.
_LIST_FIELD_METHODS = {
    "run_validation": (Field,),
    "to_internal_value": (serializers.ListField, Field),
    "run_child_validation": (serializers.ListField,),
    "validate_empty_values": (Field,),
    "run_validators": (Field,),
    "get_value": (serializers.ListField, Field),
}
# A field compiled here whose class keeps these methods (CharField's own
# run_validation only refuses blanks first).
_FIELD_METHODS = {
    "run_validation": (serializers.CharField, Field),
    "validate_empty_values": (Field,),
    "run_validators": (Field,),
    "get_value": (Field,),
}
# The to_internal_value methods of the types checked here, with what they may reach.
_CHARS = (StrictCharField, serializers.CharField, Field)
_INTEGERS = (StrictIntegerField, serializers.IntegerField, Field)
_BOOLEANS = (StrictBooleanField, serializers.BooleanField, Field)
_CHOICES = (serializers.ChoiceField, Field)
# Ints this large are left to DRF, which may refuse to turn them into text.
_HUGE = 10**600


def checker(serializer: serializers.Serializer, path: tuple) -> Callable | None:
    """The check of a JSON object for ``serializer``, or None where DRF must always
    validate it. It answers the validated data, or raises DrfDecides."""
    cls = type(serializer)
    if not keeps(cls, **_SERIALIZER_METHODS) or serializer.validators:
        return None
    steps, names = [], set()
    for field in serializer.fields.values():
        if field.read_only:
            continue
        if len(field.source_attrs) != 1:
            return None
        value_check = _value_checker(field, path)
        if value_check is None:
            return None
        hook = f"validate_{field.field_name}"
        steps.append(
            (field.source_attrs[0], value_check, hook if hasattr(cls, hook) else None)
        )
        names.add(field.field_name)
    steps, names = tuple(steps), frozenset(names)
    validates = defined_by(cls, "validate") is not serializers.Serializer

    def check(root, data):
        if not data.keys() <= names:
            raise DrfDecides
        ret = {}
        own = None  # the serializer whose validate_<field> and validate() run
        for key, value_check, hook in steps:
            value = value_check(root, data)
            if value is SKIP:
                continue
            if hook is not None:
                if own is None:
                    own = live(root, path)
                try:
                    value = getattr(own, hook)(value)
                except (serializers.ValidationError, DjangoValidationError) as error:
                    raise DrfDecides from error
                except SkipField:
                    continue
            ret[key] = value
        if validates:
            try:
                ret = live(root, path).validate(ret)
            except (serializers.ValidationError, DjangoValidationError) as error:
                raise DrfDecides from error
            if ret is None:
                raise DrfDecides
        return ret

    return check


def _value_checker(field: Field, path: tuple) -> Callable | None:
    """The check of one field's value in a JSON object, answering the validated value
    or SKIP; None if DRF must validate the whole object."""
    kind = _kind_checker(field, path)
    if kind is None:
        return _own_field_checker(field.field_name, path)
    name, required, allow_null = field.field_name, field.required, field.allow_null
    default = field.default
    # A callable default may read the context (``empty`` itself is a class).
    absent_goes_to_drf = required or (default is not empty and callable(default))

    def check(root, data):
        value = data.get(name, empty)
        if value is empty:
            if absent_goes_to_drf:
                raise DrfDecides
            return SKIP if default is empty else default
        if value is None:
            if allow_null:
                return None
            raise DrfDecides
        return kind(root, value)

    return check


def _own_field_checker(name: str, path: tuple) -> Callable:
    """A field of a type not compiled here, validated by the serializer's own copy
    of it as DRF validates it."""

    def check(root, data):
        field = live(root, path).fields[name]
        try:
            return field.run_validation(field.get_value(data))
        except SkipField:
            return SKIP
        except (serializers.ValidationError, DjangoValidationError) as error:
            raise DrfDecides from error

    return check


def _kind_checker(field: Field, path: tuple) -> Callable | None:
    """The check of a value that is neither absent nor None, by the field's type."""
    cls = type(field)
    if isinstance(field, serializers.ListSerializer):
        return _list_checker(field, path)
    if isinstance(field, serializers.ListField):
        return _list_field_checker(field, path)
    if isinstance(field, serializers.Serializer):
        nested = checker(field, (*path, field.field_name))
        if nested is None:
            return None

        def check_nested(root, value):
            if type(value) is not dict:
                raise DrfDecides
            return nested(root, value)

        return check_nested
    if not keeps(cls, **_FIELD_METHODS):
        return None
    predicates = _predicates(field)
    if predicates is None:
        return None
    to_internal = defined_by(cls, "to_internal_value")
    if to_internal in _CHARS[:2] and keeps(cls, to_internal_value=_CHARS):
        return _char_checker(field, predicates)
    if defined_by(cls, "run_validation") is not Field:
        return None
    if to_internal in _INTEGERS[:2] and keeps(cls, to_internal_value=_INTEGERS):
        return _typed_checker(int, predicates, lambda value: -_HUGE < value < _HUGE)
    if to_internal in _BOOLEANS[:2] and keeps(cls, to_internal_value=_BOOLEANS):
        return _typed_checker(bool, predicates, None)
    if to_internal is serializers.ChoiceField and keeps(
        cls, to_internal_value=_CHOICES
    ):
        return _choice_checker(field, predicates)
    return None


def _list_checker(field: serializers.ListSerializer, path: tuple) -> Callable | None:
    child = field.child
    if (
        not keeps(type(field), **_LIST_METHODS)
        or field.validators
        or not isinstance(child, serializers.Serializer)
    ):
        return None
    nested = checker(child, (*path, field.field_name, CHILD))
    if nested is None:
        return None
    allow_empty, longest = field.allow_empty, field.max_length
    shortest = field.min_length

    def check(root, value):
        if type(value) is not list:
            raise DrfDecides
        size = len(value)
        if (
            (not allow_empty and size == 0)
            or (longest is not None and size > longest)
            or (shortest is not None and size < shortest)
        ):
            raise DrfDecides
        items = []
        for item in value:
            if type(item) is not dict:
                raise DrfDecides
            items.append(nested(root, item))
        return items

    return check


def _list_field_checker(field: serializers.ListField, path: tuple) -> Callable | None:
    """Each item checked as the child field checks a value, then the list's own
    validators (its length), as DRF's ListField runs them."""
    if not keeps(type(field), **_LIST_FIELD_METHODS):
        return None
    predicates = _predicates(field)
    item_check = _kind_checker(field.child, (*path, field.field_name, CHILD))
    if predicates is None or item_check is None:
        return None
    allow_empty = field.allow_empty

    def check(root, value):
        if type(value) is not list or (not value and not allow_empty):
            raise DrfDecides
        items = []
        for item in value:
            if item is None:
                raise DrfDecides
            items.append(item_check(root, item))
        if not _passes(predicates, items):
            raise DrfDecides
        return items

    return check


def _passes(predicates: tuple, value) -> bool:
    """Every validator the field declares accepts the value (compiled to predicates)."""
    return all(valid(value) for valid in predicates)


def _char_checker(field: serializers.CharField, predicates: tuple) -> Callable:
    allow_blank, trim = field.allow_blank, field.trim_whitespace

    def check(root, value):
        if type(value) is not str:
            raise DrfDecides
        if trim:
            value = value.strip()
        if not value:
            if allow_blank:
                return ""
            raise DrfDecides
        if not _passes(predicates, value):
            raise DrfDecides
        return value

    return check


def _typed_checker(kind: type, predicates: tuple, bounded) -> Callable:
    def check(root, value):
        if type(value) is not kind or (bounded is not None and not bounded(value)):
            raise DrfDecides
        if not _passes(predicates, value):
            raise DrfDecides
        return value

    return check


def _choice_checker(field: serializers.ChoiceField, predicates: tuple) -> Callable:
    choices, allow_blank = field.choice_strings_to_values, field.allow_blank

    def check(root, value):
        if type(value) is not str:
            raise DrfDecides
        if value == "" and allow_blank:
            return ""
        try:
            value = choices[value]
        except KeyError:
            raise DrfDecides from None
        if not _passes(predicates, value):
            raise DrfDecides
        return value

    return check


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _predicates(field: Field) -> tuple | None:
    """A test per validator of the field (True: it passes), or None if one needs the
    field itself (``requires_context``)."""
    tests = []
    for validator in field.validators:
        if getattr(validator, "requires_context", False):
            return None
        tests.append(_predicate(validator))
    return tuple(tests)


def _predicate(validator) -> Callable[[Any], bool]:
    kind = type(validator)
    limit = getattr(validator, "limit_value", None)
    if not callable(limit):
        # Django's BaseValidator: compare(clean(value), limit) true is a failure.
        if kind is django_validators.MaxLengthValidator:
            return lambda value: not len(value) > limit
        if kind is django_validators.MinLengthValidator:
            return lambda value: not len(value) < limit
        if kind is django_validators.MaxValueValidator:
            return lambda value: not value > limit
        if kind is django_validators.MinValueValidator:
            return lambda value: not value < limit
    if kind is django_validators.ProhibitNullCharactersValidator:
        return lambda value: "\x00" not in str(value)
    if kind is ProhibitSurrogateCharactersValidator:

        def no_surrogates(value):
            text = str(value)
            return text.isascii() or _SURROGATE.search(text) is None

        return no_surrogates
    if kind is django_validators.RegexValidator:
        search, inverse = validator.regex.search, bool(validator.inverse_match)
        return lambda value: (search(str(value)) is not None) is not inverse

    def passes(value):
        try:
            validator(value)
        except (serializers.ValidationError, DjangoValidationError):
            return False
        return True

    return passes
