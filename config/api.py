"""API plumbing shared by every app: pagination, strict input fields, the upsert-by-code
view shape, and the single exception handler that turns domain errors into statuses.
"""

import logging
import math
from collections.abc import Callable
from typing import Any

from django.core.validators import RegexValidator
from django.db import IntegrityError
from django.http import Http404
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import (
    Conflict,
    DomainError,
    Gone,
    InvalidInput,
    NotFound,
    PermissionRefused,
)
from .records import CODE_HELP, CODE_PATTERN

logger = logging.getLogger(__name__)


# The one table from domain errors to HTTP statuses; the most specific class wins.
DOMAIN_ERROR_STATUS: dict[type[DomainError], int] = {
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    PermissionRefused: status.HTTP_403_FORBIDDEN,
    NotFound: status.HTTP_404_NOT_FOUND,
    Gone: status.HTTP_410_GONE,
    Conflict: status.HTTP_409_CONFLICT,
    DomainError: status.HTTP_409_CONFLICT,
}


def status_for(error: DomainError) -> int:
    for klass in type(error).__mro__:
        if klass in DOMAIN_ERROR_STATUS:
            return DOMAIN_ERROR_STATUS[klass]
    return status.HTTP_409_CONFLICT


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, InvalidInput):
        return Response(exc.field_errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code, **exc.extra}
        return Response(body, status=status_for(exc))
    if isinstance(exc, IntegrityError):
        # Two writers raced on a unique value; the loser may simply retry.
        logger.info("integrity conflict: %s", exc)
        return Response(
            {
                "detail": "A concurrent change conflicts with this request; retry it.",
                "code": "concurrent_conflict",
            },
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


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
    default_error_messages = {"not_an_integer": "Must be a whole number."}

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


class StrictInputSerializer(serializers.Serializer):
    """Input serializer that refuses fields it does not know, so typos are not ignored."""

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
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List, detail and ``PUT /<resource>/{code}/``: create (201) or update (200) by code.

    Subclasses name the input serializer and the service; the service is called with
    ``code=`` and the validated fields as keyword arguments and returns
    ``(instance, created)``.
    """

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

    def check_may_write(self, request: Request, code: str) -> None:
        """Hook for per-resource write permissions (a channel-bound token, say)."""

    def update(self, request: Request, code: str) -> Response:
        try:
            validate_code(code)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"code": error.detail}) from error
        self.check_may_write(request, code)
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
