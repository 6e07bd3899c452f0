"""The checkout's one server call holds kits: it takes the lines of a cart the caller
took apart (inventory.services.kits) and writes what each kit took beside the hold,
only while each kit is as the caller read it; a kit named as a line steps aside
(inventory/sql/place_hold.sql applied again)."""

from django.db import migrations

from inventory.sql import apply_sql_files


class Migration(migrations.Migration):
    dependencies = [("inventory", "0029_kits_held")]

    operations = [apply_sql_files(place_hold="b7655f792b10")]
