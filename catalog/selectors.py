"""Reads of the catalogue."""

from django.db.models import QuerySet

from .models import Channel, Product, Sku


def product_queryset() -> QuerySet[Product]:
    return Product.objects.all()


def sku_queryset() -> QuerySet[Sku]:
    return Sku.objects.select_related("product")


def channel_queryset() -> QuerySet[Channel]:
    return Channel.objects.all()


def channel_get(*, code: str) -> Channel | None:
    return Channel.objects.filter(code=code).first()


def skus_by_code(*, codes: set[str]) -> dict[str, Sku]:
    return {sku.code: sku for sku in Sku.objects.filter(code__in=codes)}


def channels_by_code(*, codes: set[str]) -> dict[str, Channel]:
    return {channel.code: channel for channel in Channel.objects.filter(code__in=codes)}
