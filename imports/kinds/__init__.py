"""What can be imported and exported: one module per kind of file, each an
``ImportKind`` (imports/kinds/base.py), listed in ``KINDS`` by the ``kind`` clients
name (docs/imports.md)."""

from .base import ImportKind
from .master_data import Locations, Products, Skus
from .snapshots import Snapshots
from .stock import Counts, OpeningStock

KINDS: dict[str, ImportKind] = {
    kind.name: kind
    for kind in (
        Products(),
        Skus(),
        Locations(),
        OpeningStock(),
        Counts(),
        Snapshots(),
    )
}

# The ``kind`` choices, as the API and the schema name them.
KIND_CHOICES = [(name, kind.label) for name, kind in KINDS.items()]
