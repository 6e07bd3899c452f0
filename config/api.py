"""API plumbing shared by every app: pagination, strict input fields, the upsert-by-code
view shape, and the single exception handler that turns domain errors into statuses
and every error into a problem (RFC 9457, ``config.problems``).
"""

import functools
import logging
import math
from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import IntegrityError, connection, models
from django.http import Http404
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .access import Scope
from .errors import (
    Conflict,
    DomainError,
    Gone,
    InvalidInput,
    NotFound,
    PermissionRefused,
    TooLarge,
)
from .problems import (
    CODE_BY_STATUS,
    ProblemResponse,
    field_problem_body,
    problem_body,
)
from .records import CODE_HELP, CODE_PATTERN
from .replicas import ReadsFromReplica

logger = logging.getLogger(__name__)


# The one table from domain errors to HTTP statuses; the most specific class wins.
DOMAIN_ERROR_STATUS: dict[type[DomainError], int] = {
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    PermissionRefused: status.HTTP_403_FORBIDDEN,
    NotFound: status.HTTP_404_NOT_FOUND,
    Gone: status.HTTP_410_GONE,
    TooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    Conflict: status.HTTP_409_CONFLICT,
    DomainError: status.HTTP_409_CONFLICT,
}


def status_for(error: DomainError) -> int:
    for klass in type(error).__mro__:
        if klass in DOMAIN_ERROR_STATUS:
            return DOMAIN_ERROR_STATUS[klass]
    return status.HTTP_409_CONFLICT


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error a view raises as a problem (RFC 9457, ``config.problems``): a
    domain error with its ``code`` and its extra members, a lost race on a unique
    value as 409, and DRF's own refusals (400 by field, 401, 403, 404, 405, 406,
    415, 429, …) with their headers (``WWW-Authenticate``, ``Retry-After``)."""
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, InvalidInput):
        given = exc.message if exc.message != InvalidInput.message else None
        body = field_problem_body(exc.field_errors, instance=instance, detail=given)
        return ProblemResponse(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        code = status_for(exc)
        body = problem_body(
            status=code,
            code=exc.code,
            detail=exc.message,
            instance=instance,
            extra=exc.extra,
        )
        return ProblemResponse(body, status=code)
    if isinstance(exc, IntegrityError):
        # Two writers raced on a unique value; the loser may simply retry.
        logger.info("integrity conflict: %s", exc)
        body = problem_body(
            status=status.HTTP_409_CONFLICT,
            code="concurrent_conflict",
            detail="A concurrent change conflicts with this request; retry it.",
            instance=instance,
        )
        return ProblemResponse(body, status=status.HTTP_409_CONFLICT)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        body = field_problem_body(data, instance=instance)
    else:
        detail = data.get("detail") if isinstance(data, dict) else data
        extra = {}
        if isinstance(data, dict):  # an exception raised with a map says more
            extra = {k: v for k, v in data.items() if k not in ("detail", "code")}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            extra["retry_after"] = math.ceil(exc.wait)
        body = problem_body(
            status=response.status_code,
            code=getattr(detail, "code", None)
            or CODE_BY_STATUS.get(response.status_code, "error"),
            detail=str(detail),
            instance=instance,
            extra=extra,
        )
    # DRF's headers kept (WWW-Authenticate, Retry-After); the type is the problem's.
    headers = {k: v for k, v in response.items() if k.lower() != "content-type"}
    return ProblemResponse(body, status=response.status_code, headers=headers)


# Strict fields: DRF coerces 123 to "123" and "yes" to True; integrations that send
# the wrong type should hear about it instead of having it silently converted.


class StrictCharField(serializers.CharField):
    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"not_a_boolean": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A whole number no larger than its column holds: the range of the column of the
    field's name in the model its serializer ``writes``, else of a 64-bit column (the
    widest there is), within the field's own bounds where those are narrower. Beyond
    it PostgreSQL answers "integer out of range", a 500. The range goes into the
    field's validators (the fast serializers compile them) and into the schema."""

    default_error_messages = {"not_an_integer": "Must be a whole number."}

    def bind(self, field_name: str, parent: Any) -> None:
        super().bind(field_name, parent)
        low, high = column_range(getattr(parent, "writes", None), self.source)
        if self.min_value is not None and self.min_value >= low:
            low = self.min_value
        if self.max_value is not None and self.max_value <= high:
            high = self.max_value
        message = f"Must be from {low} to {high}."
        if low != self.min_value:
            self.validators.append(MinValueValidator(low, message=message))
        if high != self.max_value:
            self.validators.append(MaxValueValidator(high, message=message))
        self.min_value, self.max_value = low, high

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


class CoordinateField(serializers.FloatField):
    """A latitude or longitude in degrees, kept to 6 decimal places (about 0.1 m)."""

    default_error_messages = {"not_a_number": "Must be a number."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_a_number")
        if not math.isfinite(data):
            self.fail("not_a_number")
        return round(super().to_internal_value(data), 6)


class CodeField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", CODE_HELP)
        # A code is matched exactly; trimming would accept "ABC\n" and store it whole.
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(CODE_PATTERN, f"Invalid code: {CODE_HELP}")
        )


@functools.cache
def column_range(model: type[models.Model] | None, name: str) -> tuple[int, int]:
    """The database's range for the integer column ``name`` of ``model``; a 64-bit
    column's where there is no such column. Kept once asked: a serializer's fields
    are bound afresh for every request, the columns never change."""
    kind = "BigIntegerField"
    if model is not None:
        try:
            column = model._meta.get_field(name)
        except FieldDoesNotExist:
            column = None
        if isinstance(column, models.IntegerField):
            kind = column.get_internal_type()
    return connection.ops.integer_field_range(kind)


class StrictInputSerializer(serializers.Serializer):
    """Input serializer that refuses fields it does not know, so typos are not ignored.

    ``writes``: the model the input is stored in, whose integer columns bound the
    integer fields of the same names (``StrictIntegerField``)."""

    writes: type[models.Model] | None = None

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}
                )
        return super().to_internal_value(data)


def validate_code(code: str) -> None:
    """Refuse a code from the URL with a field error, as the body would be refused."""
    CodeField().run_validation(code)


class UpsertByCodeViewSet(
    ReadsFromReplica,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """List, detail and ``PUT /<resource>/{code}/``: create (201) or update (200) by code.

    Subclasses name the input serializer and the service; the service is called with
    ``code=`` and the validated fields as keyword arguments and returns
    ``(instance, created)``.
    """

    # Master data: read by every integration, written by the retailer's own (unbound
    # tokens holding write_master_data) and managers.
    read_scope = Scope.READ_MASTER_DATA
    write_scope = Scope.WRITE_MASTER_DATA
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    input_serializer_class: type[serializers.Serializer]
    upsert_service: Callable[..., tuple[Any, bool]]

    def get_object(self) -> Any:
        try:
            validate_code(self.kwargs[self.lookup_field])
        except serializers.ValidationError as error:
            # No record can carry such a code; the database need not be asked.
            raise Http404 from error
        return super().get_object()

    def update(self, request: Request, code: str) -> Response:
        try:
            validate_code(code)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"code": error.detail}) from error
        payload = request.data
        if isinstance(payload, dict) and "code" in payload:
            if payload["code"] != code:
                raise serializers.ValidationError(
                    {"code": ["Does not match the code in the URL."]}
                )
            payload = {key: value for key, value in payload.items() if key != "code"}
        incoming = self.input_serializer_class(data=payload, context={"code": code})
        incoming.is_valid(raise_exception=True)
        instance, created = self.upsert_service(code=code, **incoming.validated_data)
        body = self.get_serializer(instance).data
        return Response(
            body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


def stock_query(
    request: Request, serializer_class: type[serializers.Serializer], *, repeated
) -> dict[str, Any]:
    """The validated query of a stock read (availability, network availability,
    buffers): the parameters named in ``repeated`` as lists (``?sku=A&sku=B``), and
    ``channel`` once (two is a 400, not a silent choice). Raises DRF's
    ValidationError, a 400 by field."""
    params = request.query_params
    if len(params.getlist("channel")) > 1:
        raise serializers.ValidationError({"channel": ["Give one channel."]})
    query = serializer_class(
        data={key: params.getlist(key) for key in repeated if key in params}
        | ({"channel": params["channel"]} if "channel" in params else {})
    )
    query.is_valid(raise_exception=True)
    return query.validated_data


def in_order_asked(
    wanted: dict[str, Any],
    field: str,
    label: str,
    found: dict[str, Any],
    errors: dict[str, list[str]],
) -> list | None:
    """The records ``found`` (by code) for the codes asked under ``field`` (None if
    not asked), once each, in the order asked; unknown codes are named in
    ``errors[field]``, for a 400 by field."""
    if field not in wanted:
        return None
    codes = list(dict.fromkeys(wanted[field]))
    unknown = [code for code in codes if code not in found]
    if unknown:
        errors[field] = [f"Unknown {label} {code!r}." for code in unknown]
    return [found[code] for code in codes if code in found]
