"""The outbox of availability changes (AvailabilityChange), written by the database:
a trigger counts every change of a balance's quantities in its ``sequence`` and copies
the new quantities into the outbox in the same statement, whichever path moved the
stock (the ledger's batch, the lean hold function, the rebuild's repair)."""

import django.db.models.deletion
from django.db import migrations, models


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


# The quantities a channel sees: a change to any of them is a change of availability.
BUCKETS = (
    "on_hand", "committed", "picked", "reserved", "damaged", "quality_control",
    "in_transit", "incoming",
)
COPIED = ", ".join(BUCKETS)
NEW_ROW = ", ".join(f"n.{bucket}" for bucket in BUCKETS)
CHANGED = " OR ".join(f"NEW.{bucket} IS DISTINCT FROM OLD.{bucket}" for bucket in BUCKETS)
# SQLite's null-safe "is not" (IS DISTINCT FROM arrived only in 3.39).
CHANGED_SQLITE = " OR ".join(f"NEW.{bucket} IS NOT OLD.{bucket}" for bucket in BUCKETS)
NONZERO = " OR ".join(f"NEW.{bucket} <> 0" for bucket in BUCKETS)

POSTGRESQL = f"""
CREATE INDEX availability_change_time ON inventory_availabilitychange
USING brin (changed_at);

CREATE FUNCTION onestock_balance_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.sequence := CASE WHEN {NONZERO} THEN 1 ELSE 0 END;
    ELSIF {CHANGED} THEN
        NEW.sequence := OLD.sequence + 1;
    ELSE
        NEW.sequence := OLD.sequence;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER onestock_balance_sequence
BEFORE INSERT OR UPDATE ON inventory_stockbalance
FOR EACH ROW EXECUTE FUNCTION onestock_balance_sequence();

-- One INSERT per statement, from the rows the statement changed: a batch of a
-- thousand events writes its thousand changes in one go.
CREATE FUNCTION onestock_outbox_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory_availabilitychange
        (sku_id, location_id, sequence, {COPIED}, changed_at)
    SELECT n.sku_id, n.location_id, n.sequence, {NEW_ROW}, clock_timestamp()
    FROM changed_new AS n JOIN changed_old AS o ON o.id = n.id
    WHERE n.sequence <> o.sequence
    ORDER BY n.sku_id, n.location_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER onestock_outbox_after_update
AFTER UPDATE ON inventory_stockbalance
REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
FOR EACH STATEMENT EXECUTE FUNCTION onestock_outbox_after_update();

CREATE FUNCTION onestock_outbox_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inventory_availabilitychange
        (sku_id, location_id, sequence, {COPIED}, changed_at)
    SELECT n.sku_id, n.location_id, n.sequence, {NEW_ROW}, clock_timestamp()
    FROM inserted AS n WHERE n.sequence > 0
    ORDER BY n.sku_id, n.location_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER onestock_outbox_after_insert
AFTER INSERT ON inventory_stockbalance
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION onestock_outbox_after_insert();
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

# SQLite (the demo) has row triggers only; its writers are one at a time anyway.
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
SQLITE = [
    f"""
CREATE TRIGGER onestock_outbox_after_update AFTER UPDATE ON inventory_stockbalance
WHEN {CHANGED_SQLITE}
BEGIN
    UPDATE inventory_stockbalance SET sequence = OLD.sequence + 1 WHERE id = NEW.id;
    INSERT INTO inventory_availabilitychange
        (sku_id, location_id, sequence, {COPIED}, changed_at)
    VALUES (NEW.sku_id, NEW.location_id, OLD.sequence + 1,
            {", ".join(f"NEW.{bucket}" for bucket in BUCKETS)}, {SQLITE_NOW});
END
""",
    f"""
CREATE TRIGGER onestock_outbox_after_insert AFTER INSERT ON inventory_stockbalance
WHEN {NONZERO}
BEGIN
    UPDATE inventory_stockbalance SET sequence = 1 WHERE id = NEW.id;
    INSERT INTO inventory_availabilitychange
        (sku_id, location_id, sequence, {COPIED}, changed_at)
    VALUES (NEW.sku_id, NEW.location_id, 1,
            {", ".join(f"NEW.{bucket}" for bucket in BUCKETS)}, {SQLITE_NOW});
END
""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS onestock_outbox_after_update",
    "DROP TRIGGER IF EXISTS onestock_outbox_after_insert",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


Migration.operations.append(migrations.RunPython(create, drop))
