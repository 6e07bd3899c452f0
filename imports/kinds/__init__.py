"""What can be imported and exported: one module per kind of file, each an
``ImportKind`` (imports/kinds/base.py), listed in ``KINDS``."""
