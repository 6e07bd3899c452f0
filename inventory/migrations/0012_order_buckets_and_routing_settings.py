"""The ``picked`` bucket (units in the pickup-hold area, orders.services) and what
order routing weighs per location. (The hold function's promise check is generated
from the one definition of availability since, ``inventory/sql/``.)"""

import django.core.validators
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0011_place_hold_by_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="location",
            name="daily_order_capacity",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Orders a day this location can pack and ship; empty: no limit.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="location",
            name="service_radius_km",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Farthest customer this location ships to; empty: anywhere.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="location",
            name="shipping_cost",
            field=models.DecimalField(
                decimal_places=2,
                default=0,
                help_text="What one shipment from here costs, in the shop's currency.",
                max_digits=8,
                validators=[django.core.validators.MinValueValidator(0)],
            ),
        ),
        migrations.AddField(
            model_name="location",
            name="walk_in_buffer",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Units of each SKU a store keeps for walk-in customers: routing never ships them.",
            ),
        ),
        migrations.AddField(
            model_name="stockbalance",
            name="picked",
            field=models.BigIntegerField(
                db_default=0,
                default=0,
                help_text="Off the shelf in the pickup-hold area: picked for an order, or waiting to be put back after a cancellation.",
            ),
        ),
        migrations.AddField(
            model_name="stockmovement",
            name="picked_delta",
            field=models.BigIntegerField(db_default=0, default=0),
        ),
        migrations.AlterField(
            model_name="reservation",
            name="status",
            field=models.CharField(
                choices=[
                    ("active", "Active: units held"),
                    ("released", "Released"),
                    ("expired", "Expired"),
                    ("committed", "Committed to an order"),
                    ("fulfilled", "Fulfilled: the units left"),
                    ("cancelled", "Cancelled after commitment"),
                    ("ordered", "Became an order: its units are the order's now"),
                ],
                default="active",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="reservationtransition",
            name="to_status",
            field=models.CharField(
                choices=[
                    ("active", "Active: units held"),
                    ("released", "Released"),
                    ("expired", "Expired"),
                    ("committed", "Committed to an order"),
                    ("fulfilled", "Fulfilled: the units left"),
                    ("cancelled", "Cancelled after commitment"),
                    ("ordered", "Became an order: its units are the order's now"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="type",
            field=models.CharField(
                choices=[
                    ("receipt", "Receipt"),
                    ("receipt_expected", "Receipt expected"),
                    ("sale", "Sale"),
                    ("adjustment", "Adjustment"),
                    ("count", "Count"),
                    ("damage", "Damage"),
                    ("write_off", "Write-off"),
                    ("return_received", "Return received"),
                    ("inspection_pass", "Inspection passed"),
                    ("inspection_fail", "Inspection failed"),
                    ("transfer_out", "Transfer out"),
                    ("transfer_in", "Transfer in"),
                    ("reserve", "Reserve"),
                    ("reservation_release", "Reservation released"),
                    ("commit", "Commit"),
                    ("commitment_release", "Commitment released"),
                    ("reservation_commit", "Reservation committed"),
                    ("fulfil", "Fulfil"),
                    ("pick", "Picked"),
                    ("fulfil_picked", "Fulfilled from the pickup-hold area"),
                    ("put_away", "Put back on the shelf"),
                ],
                max_length=24,
            ),
        ),
    ]
