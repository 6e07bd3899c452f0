"""The balance's sequence may jump forward when asked (``manage.py after_restore``,
inventory.services.restore): inventory/sql/balance_outbox.sql applied again."""

from django.db import migrations

from inventory.sql import apply_sql_files


class Migration(migrations.Migration):
    dependencies = [("inventory", "0022_loss_index")]

    operations = [apply_sql_files(balance_outbox="eb7cec6e3f2d")]
