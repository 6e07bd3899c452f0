"""The first version of the checkout hold's database function.

Superseded: the database's code lives in files now, each function's current text in
one file (``inventory/sql/place_hold.sql``), applied by migration
``0018_hold_from_files``. A database migrated before then ran this migration's own
SQL; that migration replaces it. Left as a step of the history, doing nothing.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_leaner_ledger_indexes")]

    operations = []
