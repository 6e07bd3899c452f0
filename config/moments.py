"""Moments (date-times) the API takes, in a body or in a query, and moments a store
screen shows: what PostgreSQL and every screen can hold, checked in one place.

- A UTC offset is whole minutes within ±15:59. ISO 8601 and Python read offsets up to
  ±23:59 (Python's also with seconds), but PostgreSQL refuses anything beyond ±15:59
  ("time zone displacement out of range") and an offset with seconds is not ISO 8601.
- A moment lies in the window, 2000-01-01 to 2099-12-31 (UTC). Year 1 or 9999 is
  stored, and then cannot be shown in a zone that moves it past the calendar's end
  (``OverflowError``), nor have a day or an hour added to it; no retailer's moment
  lies outside the window.

``validate_moment`` is the one check: ``MomentField`` (a serializer's input),
``MomentFilter`` (a list's query) and ``inventory.serializers.source_moment`` (a
source's event time) all apply it, and each refusal is a 400 naming the field.
``in_store_time`` shows whatever is stored, the window or not."""

from datetime import UTC, date, datetime, timedelta, tzinfo

import django_filters
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
UNTIL = datetime(2100, 1, 1, tzinfo=UTC)  # the first moment after the window
LARGEST_OFFSET = timedelta(hours=15, minutes=59)
# The same window for a day a screen's report asks for (a period's first or last).
FIRST_DAY, LAST_DAY = EARLIEST.date(), date(2099, 12, 31)

OFFSET_REFUSED = "A UTC offset is whole minutes between -15:59 and +15:59."
WINDOW_REFUSED = "Must lie between 2000-01-01 and 2099-12-31 (UTC)."


def validate_moment(moment: datetime) -> None:
    """Refuse a moment PostgreSQL or a screen cannot hold (Django's ValidationError,
    which DRF and forms both report under the field). Without an offset the moment is
    read as UTC here; the zone it is then given moves it by hours, not years."""
    offset = moment.utcoffset()
    if offset is not None and (
        abs(offset) > LARGEST_OFFSET or offset % timedelta(minutes=1)
    ):
        raise ValidationError(OFFSET_REFUSED, code="offset_out_of_range")
    # Comparing aware moments subtracts their offsets without converting either, so
    # even year 1 at +01:00 compares without an OverflowError.
    aware = moment if offset is not None else moment.replace(tzinfo=UTC)
    if not EARLIEST <= aware < UNTIL:
        raise ValidationError(WINDOW_REFUSED, code="outside_window")


class MomentField(serializers.DateTimeField):
    """An ISO 8601 date-time in a request body, held to ``validate_moment`` before DRF
    converts it to UTC (the conversion would lose the offset the check needs)."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None  # DRF's own message for a malformed date-time
            if parsed is not None:
                try:
                    validate_moment(parsed)
                except ValidationError as error:
                    raise serializers.ValidationError(
                        error.messages, code=error.code
                    ) from error
        return super().to_internal_value(value)


class MomentFormField(IsoDateTimeField):
    default_validators = [validate_moment]


class MomentFilter(django_filters.IsoDateTimeFilter):
    """A list's date-time parameter (``since``, ``until``, ``updated_since``…): ISO
    8601 held to ``validate_moment``; a refusal is a 400 naming the parameter."""

    field_class = MomentFormField


def in_store_time(
    moment: datetime, zone: tzinfo | None = None
) -> tuple[datetime, bool]:
    """The moment in the store's zone (the current one), and whether it is there:
    a stored moment too near the calendar's end to move into that zone stays in UTC
    (False), so a screen shows it, marked, rather than failing."""
    if timezone.is_naive(moment):
        return moment, True
    try:
        return timezone.localtime(moment, zone), True
    except OverflowError:
        pass
    try:
        return moment.astimezone(UTC), False
    except OverflowError:  # not read from the database, which answers in UTC
        return moment, False
