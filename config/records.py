"""Create-or-update by business code, shared by the master-data services of every app,
and a record built from the values at hand without a read."""

import functools
from typing import Any, TypeVar

from django.core.validators import RegexValidator
from django.db import IntegrityError, models, transaction
from django.db.models import DEFERRED

M = TypeVar("M", bound=models.Model)

# Business codes (SKU, location, channel, product): safe in URLs and in file names.
CODE_PATTERN = (
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z"  # \Z: "$" would let a final newline in
)
CODE_HELP = "1-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit."
CODE_VALIDATOR = RegexValidator(CODE_PATTERN, CODE_HELP)


class _Unset:
    """Marks a keyword the caller left out: the field keeps its value (or default)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def upsert_by_code(
    model: type[M], *, code: str, fields: dict[str, Any]
) -> tuple[M, bool]:
    """Create the row with ``code`` or update the supplied fields; fields left UNSET keep
    their value (or take the model's default on create). The row is locked while it is
    updated so two integrations writing the same code do not interleave; when two create
    it at once, the unique index stops the second insert and that writer updates the row
    the first one made."""
    supplied = {name: value for name, value in fields.items() if value is not UNSET}
    with transaction.atomic():
        instance = (
            model.objects.select_for_update(no_key=True).filter(code=code).first()
        )
        if instance is None:
            try:
                with transaction.atomic():
                    instance = model(code=code, **supplied)
                    instance.save(force_insert=True)
                return instance, True
            except IntegrityError:
                # Another writer created it since we looked: update theirs instead. If the
                # clash was on another unique value, there is still nothing here to update.
                instance = (
                    model.objects.select_for_update(no_key=True)
                    .filter(code=code)
                    .first()
                )
                if instance is None:
                    raise
        for name, value in supplied.items():
            setattr(instance, name, value)
        instance.save()
        return instance, False


def built(model: type[M], **values) -> M:
    """A row from the values at hand (by attname), every other field deferred (it
    loads on first access), built as Django's documented ``Model.from_db`` builds a
    read: every concrete field positionally, ``DEFERRED`` where not known. By keyword
    a record costs about twice as much (every field's default is looked up); a
    checkout builds six, a batch of movements up to a thousand SKUs."""
    return model(*[values.get(name, DEFERRED) for name in _attnames(model)])


@functools.cache
def _attnames(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)
