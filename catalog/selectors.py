"""Reads of the catalogue."""

from django.db.models import BooleanField, DateTimeField, Model, Q, QuerySet

from config.database import among, moment_from_row, read_rows
from config.records import built
from config.replicas import reading_alias

from .models import Channel, Product, Sku


def product_queryset() -> QuerySet[Product]:
    return Product.objects.all()


def sku_queryset() -> QuerySet[Sku]:
    return Sku.objects.select_related("product").prefetch_related(
        "components__component"
    )


def channel_queryset() -> QuerySet[Channel]:
    return Channel.objects.all()


def channel_get(*, code: str) -> Channel | None:
    return Channel.objects.filter(code=code).first()


def skus_by_code(*, codes: set[str]) -> dict[str, Sku]:
    return {sku.code: sku for sku in Sku.objects.filter(code__in=codes)}


def skus_by_code_or_barcode(*, codes: set[str]) -> dict[str, Sku]:
    """What a scanner read or a person typed, to its SKU: a SKU code first, else a
    barcode. One query for all of them."""
    if not codes:
        return {}
    found: dict[str, Sku] = {}
    by_barcode: dict[str, Sku] = {}
    for sku in Sku.objects.filter(Q(code__in=codes) | Q(barcode__in=codes)):
        if sku.code in codes:
            found[sku.code] = sku
        if sku.barcode in codes:
            by_barcode[sku.barcode] = sku
    return {**by_barcode, **found}


def channels_by_code(*, codes: set[str]) -> dict[str, Channel]:
    return {channel.code: channel for channel in Channel.objects.filter(code__in=codes)}


def records_by_code(*, wanted: dict[type[Model], tuple[tuple[str, ...], set[str]]]):
    """Records of several models by code in one round trip, as
    ``{model: {code: record}}``; ``wanted`` maps each model to (the fields to read,
    the codes). A checkout names a channel, SKUs and locations on every call, a batch
    of movements up to a thousand SKUs: an ORM query costs several times what the
    database spends answering it. Each record is made by the model's constructor from
    the fields read, the others deferred (``config.records.built``): they load on
    first access."""
    parts, params, width = [], [], max(len(fields) for fields, _ in wanted.values())
    # On PostgreSQL the text is the same for any codes (one array each), so it is
    # planned once per connection: the planning costs twice the look-up itself.
    using = reading_alias()
    shapes = {}
    for number, (model, (names, codes)) in enumerate(wanted.items()):
        fields = [model._meta.get_field(name) for name in names]
        shapes[number] = (model, fields)
        if not codes:
            continue
        # One column type for every branch of the union: text, turned back into
        # each field's type by its to_python (booleans as 1/0 on any database).
        columns = [_as_text(field) for field in fields]
        columns += ["CAST(NULL AS TEXT)"] * (width - len(columns))
        parts.append(
            f"SELECT {number}, {', '.join(columns)} FROM {model._meta.db_table} "
            f"WHERE {among('code', codes, params, using=using)}"
        )
    found: dict[type[Model], dict[str, Model]] = {model: {} for model in wanted}
    if not parts:
        return found
    for number, *values in read_rows(" UNION ALL ".join(parts), params, using=using):
        model, fields = shapes[int(number)]
        record = built(
            model,
            **{
                field.attname: _from_text(field, value)
                for field, value in zip(fields, values, strict=False)
            },
        )
        found[model][record.code] = record
    return found


def _from_text(field, value):
    if isinstance(field, DateTimeField):
        return moment_from_row(value)
    return field.to_python(value)


def _as_text(field) -> str:
    if isinstance(field, BooleanField):
        return f"CAST(CAST({field.column} AS INTEGER) AS TEXT)"
    return f"CAST({field.column} AS TEXT)"
