"""Master-data files: products, SKUs and locations, one row per record by code.

A row obeys the rules of ``PUT /api/v1/<resource>/{code}/``: it is checked by the same
input serializer (``ProductInputSerializer``, ``SkuInputSerializer``,
``LocationInputSerializer``) and written by the same service (``product_upsert``,
``sku_upsert``, ``location_upsert``): create or update by code, a column left out
keeps the record's value. A file has no batch service to go through, so a page is a
thousand rows (each upsert locks its one row; the page commits as one transaction).

CSV cells are text; before the serializer reads a row, each cell is turned into the
JSON value the API would take, by the serializer field's own type: ``true``/``false``
for a flag, a whole number, a decimal, a JSON object or list (``attributes``,
``components``). An empty cell means null where the field takes null, "" where it
takes blank text, and otherwise "left out" (the current value kept); text the export
quoted against spreadsheet formulas (imports/exports.py) loses its quote. JSON Lines
rows are JSON already and go to the serializer as they are.
"""

import json
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from django.db import IntegrityError
from rest_framework import serializers

from catalog.models import KitComponent, Product, Sku
from catalog.serializers import ProductInputSerializer, SkuInputSerializer
from catalog.services import product_upsert, sku_upsert
from config.access import Scope
from config.api import validate_code
from config.errors import DomainError
from config.exports import as_written
from config.screens import first_messages
from inventory.models import Location
from inventory.serializers import LocationInputSerializer
from inventory.services import location_upsert

from .base import ImportKind, RowError

LEFT_OUT: Any = object()
# DRF's words for a field left out, which in a file is a cell left empty.
REQUIRED = "This field is required."
EMPTY = "Empty: this column needs a value."
TRUE, FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def _cell_reader(field: serializers.Field) -> Callable[[str], Any]:
    """How a CSV cell becomes the JSON value ``field`` takes; a cell that cannot be
    read as one is passed on as text, for the field to refuse in its own words."""
    empty = None if field.allow_null else LEFT_OUT

    if isinstance(field, serializers.BooleanField):

        def read(text: str) -> Any:
            lowered = text.strip().lower()
            if not lowered:
                return LEFT_OUT
            return True if lowered in TRUE else False if lowered in FALSE else text

    elif isinstance(field, serializers.IntegerField | serializers.FloatField):
        number = int if isinstance(field, serializers.IntegerField) else float

        def read(text: str) -> Any:
            if not text.strip():
                return empty
            try:
                return number(text)
            except ValueError:
                return text

    elif isinstance(field, serializers.DictField | serializers.ListSerializer):

        def read(text: str) -> Any:
            if not text.strip():
                return LEFT_OUT
            try:
                return json.loads(text)
            except ValueError:
                return text

    elif isinstance(field, serializers.CharField) and not isinstance(
        field, serializers.ChoiceField
    ):

        def read(text: str) -> Any:
            if text:
                return as_written(text)
            return "" if field.allow_blank else empty

    else:  # choices, decimals, times: the field reads the text itself

        def read(text: str) -> Any:
            return text if text.strip() else empty

    return read


class UpsertByCode(ImportKind):
    """A master-data kind: a row is a ``PUT`` of the record with the row's ``code``."""

    model: ClassVar[type]
    input_serializer: ClassVar[type[serializers.Serializer]]
    upsert: ClassVar[Callable[..., tuple[Any, bool]]]
    scope = Scope.WRITE_MASTER_DATA.value
    page_rows = 1000

    @property
    def export_scope(self) -> str:
        return Scope.READ_MASTER_DATA.value

    def _readers(self) -> dict[str, Callable[[str], Any]]:
        fields = self.input_serializer(context={"code": ""}).fields
        return {name: _cell_reader(field) for name, field in fields.items()}

    def check(self, rows, *, job):
        readers = self._readers()
        seen: dict[str, int] = job.scratch.setdefault(f"{self.name}:codes", {})
        clean, errors = [], []
        for line, values in rows:
            payload = dict(values)
            code = payload.pop("code", None)
            if job.file_format == "csv":
                payload = {
                    name: value
                    for name, value in (
                        (name, readers[name](text)) for name, text in payload.items()
                    )
                    if value is not LEFT_OUT
                }
            row_errors = self._code_errors(line, code, seen)
            if not row_errors:
                incoming = self.input_serializer(data=payload, context={"code": code})
                if incoming.is_valid():
                    row_errors = self._row_errors(
                        line, code, incoming.validated_data, job
                    )
                else:
                    row_errors = [
                        RowError(
                            line,
                            None if name == "non_field_errors" else name,
                            EMPTY if text == REQUIRED else text,
                        )
                        for name, text in first_messages(incoming.errors).items()
                    ]
            if row_errors:
                errors.extend(row_errors)
            else:
                seen[code] = line
                clean.append((line, code, incoming.validated_data))
        return clean, errors

    def _code_errors(
        self, line: int, code: Any, seen: dict[str, int]
    ) -> list[RowError]:
        if not isinstance(code, str):
            return [RowError(line, "code", "Give the code, as text.")]
        try:
            validate_code(code)
        except serializers.ValidationError as error:
            return [RowError(line, "code", str(error.detail[0]))]
        if code in seen:
            return [
                RowError(line, "code", f"{code} came already, on line {seen[code]}.")
            ]
        return []

    def _row_errors(self, line: int, code: str, data: dict, job) -> list[RowError]:
        """Rules across the rows of one file, beyond one row's (none by default)."""
        return []

    def write(self, clean, *, job) -> int:
        """Each row through its service, in its own savepoint: a row its service
        refuses after all (a kit's components for a SKU that came to hold stock, a
        barcode another writer took meanwhile) is left out and reported."""
        written = 0
        for line, code, data in clean:
            try:
                self.upsert(code=code, **data)
            except (DomainError, IntegrityError) as refused:
                message = getattr(refused, "message", None) or (
                    "Another change to the same record came first; send the row again."
                )
                job.scratch.setdefault("write_errors", []).append(
                    RowError(line, None, message)
                )
            else:
                written += 1
        return written

    def export(self) -> Iterator[dict[str, Any]]:
        names = (*self.columns, *self.optional)
        rows = self.model.objects.order_by("code").values_list(*names)
        for values in rows.iterator(chunk_size=2000):
            yield dict(zip(names, values, strict=True))


class Products(UpsertByCode):
    name = "products"
    label = "Products"
    model = Product
    input_serializer = ProductInputSerializer
    upsert = staticmethod(product_upsert)
    columns = ("code", "name")
    optional = ("brand", "description", "is_active")


class Skus(UpsertByCode):
    name = "skus"
    label = "SKUs"
    model = Sku
    input_serializer = SkuInputSerializer
    upsert = staticmethod(sku_upsert)
    columns = ("code", "name")
    optional = (
        "product",
        "barcode",
        "attributes",
        "safety_buffer",
        "cost",
        "price",
        "future_promise_limit",
        "is_active",
        "components",
    )

    def _row_errors(self, line: int, code: str, data: dict, job) -> list[RowError]:
        # The serializer checks a barcode against the SKUs written; two rows of one
        # file giving one barcode would pass it and clash on writing.
        barcode = data.get("barcode")
        if not barcode:
            return []
        holders = job.scratch.setdefault("skus:barcodes", {})
        holder = holders.setdefault(barcode, code)
        if holder != code:
            return [
                RowError(line, "barcode", f"Barcode already given to SKU {holder}.")
            ]
        return []

    def export(self) -> Iterator[dict[str, Any]]:
        kits: dict[int, list[dict[str, Any]]] = {}
        for kit_id, component, quantity in KitComponent.objects.order_by(
            "kit_id", "component__code"
        ).values_list("kit_id", "component__code", "quantity"):
            kits.setdefault(kit_id, []).append({"sku": component, "quantity": quantity})
        names = ("id", "code", "name", "product__code", *self.optional[1:-1])
        rows = Sku.objects.order_by("code").values_list(*names)
        for sku_id, code, name, product, *rest in rows.iterator(chunk_size=2000):
            yield {
                "code": code,
                "name": name,
                "product": product,
                **dict(zip(self.optional[1:-1], rest, strict=True)),
                "components": kits.get(sku_id),
            }


class Locations(UpsertByCode):
    name = "locations"
    label = "Locations"
    model = Location
    input_serializer = LocationInputSerializer
    upsert = staticmethod(location_upsert)
    columns = ("code", "name")
    optional = (
        "kind",
        "address",
        "city",
        "postal_code",
        "country",
        "latitude",
        "longitude",
        "time_zone",
        "pickup_enabled",
        "ship_from_store_enabled",
        "shipping_cost",
        "daily_order_capacity",
        "walk_in_buffer",
        "service_radius_km",
        "opens_at",
        "pickup_cutoff",
        "pickup_preparation_minutes",
        "pickup_hold_days",
        "is_active",
    )
