"""Reads of inventory."""

from django.db.models import QuerySet

from .models import Location


def location_queryset() -> QuerySet[Location]:
    return Location.objects.all()
