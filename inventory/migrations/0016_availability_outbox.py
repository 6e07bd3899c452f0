"""The outbox of availability changes (AvailabilityChange), written by the database:
a trigger counts every change of a balance's quantities in its ``sequence`` and copies
the new quantities into the outbox in the same statement, whichever path moved the
stock (the ledger's batch, the lean hold function, the rebuild's repair). The
triggers are in inventory/sql/balance_outbox.sql."""

import django.db.models.deletion
from django.db import migrations, models

from inventory.sql import apply_sql_files


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0005_reservation_ttl_at_most_a_day'),
        ('inventory', '0015_sold_units_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='stockbalance',
            name='sequence',
            field=models.BigIntegerField(db_default=0, default=0, editable=False, help_text='How many times its quantities changed: set by the database on every change (migration 0016), and carried by the change it sends to the channels.'),
        ),
        migrations.CreateModel(
            name='SourceHealth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('expected_interval_seconds', models.PositiveIntegerField(blank=True, help_text='Silent longer than this, the source is delayed (a sync_delayed case opens). Empty: not watched.', null=True)),
                ('last_event_at', models.DateTimeField(blank=True, null=True)),
                ('last_occurred_at', models.DateTimeField(blank=True, null=True)),
                ('events_last_hour', models.PositiveIntegerField(default=0)),
                ('lag_median_seconds', models.FloatField(blank=True, null=True)),
                ('lag_p95_seconds', models.FloatField(blank=True, null=True)),
                ('rejected_last_hour', models.PositiveIntegerField(default=0)),
                ('duplicates_last_hour', models.PositiveIntegerField(default=0)),
                ('clashes_last_hour', models.PositiveIntegerField(default=0)),
                ('refused_last_hour', models.PositiveIntegerField(default=0)),
                ('delayed', models.BooleanField(default=False)),
                ('checked_at', models.DateTimeField(blank=True, null=True)),
                ('channel', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='health', to='catalog.channel')),
            ],
            options={
                'verbose_name_plural': 'source health',
                'ordering': ['channel__code'],
            },
        ),
        migrations.CreateModel(
            name='AvailabilityChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sequence', models.BigIntegerField()),
                ('on_hand', models.BigIntegerField()),
                ('committed', models.BigIntegerField()),
                ('picked', models.BigIntegerField()),
                ('reserved', models.BigIntegerField()),
                ('damaged', models.BigIntegerField()),
                ('quality_control', models.BigIntegerField()),
                ('in_transit', models.BigIntegerField()),
                ('incoming', models.BigIntegerField()),
                ('changed_at', models.DateTimeField()),
                ('position', models.BigIntegerField(blank=True, null=True)),
                ('location', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='inventory.location')),
                ('sku', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='catalog.sku')),
            ],
            options={
                'ordering': ['id'],
                'indexes': [models.Index(condition=models.Q(('position__isnull', True)), fields=['id'], name='availability_change_unplaced')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('position__isnull', False)), fields=('position',), name='availability_change_position')],
            },
        ),
        migrations.CreateModel(
            name='EventTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('minute', models.DateTimeField()),
                ('duplicates', models.PositiveIntegerField(default=0)),
                ('clashes', models.PositiveIntegerField(default=0)),
                ('refused', models.PositiveIntegerField(default=0)),
                ('channel', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='catalog.channel')),
            ],
            options={
                'ordering': ['channel_id', 'minute'],
                'constraints': [models.UniqueConstraint(fields=('channel', 'minute'), name='event_tally_channel_minute')],
            },
        ),
    ]


# Schema: a block range index, as rows arrive in time order (PostgreSQL only). The
# triggers and their functions are in inventory/sql/balance_outbox.sql (and its SQLite
# version), applied from the file as it is now.
POSTGRESQL_INDEX = """
CREATE INDEX availability_change_time ON inventory_availabilitychange
USING brin (changed_at);
"""

POSTGRESQL_DROP = """
DROP INDEX IF EXISTS availability_change_time;
DROP TRIGGER IF EXISTS onestock_outbox_after_insert ON inventory_stockbalance;
DROP TRIGGER IF EXISTS onestock_outbox_after_update ON inventory_stockbalance;
DROP TRIGGER IF EXISTS onestock_balance_sequence ON inventory_stockbalance;
DROP FUNCTION IF EXISTS onestock_outbox_after_insert();
DROP FUNCTION IF EXISTS onestock_outbox_after_update();
DROP FUNCTION IF EXISTS onestock_balance_sequence();
"""
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS onestock_outbox_after_update",
    "DROP TRIGGER IF EXISTS onestock_outbox_after_insert",
]


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_INDEX)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


# Reversed, the file's operation does nothing and ``drop`` removes it all.
Migration.operations += [
    migrations.RunPython(create_index, drop),
    apply_sql_files("balance_outbox"),
]
