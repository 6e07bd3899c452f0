"""One timeline shape (config.timeline.TimelineEvent): a reservation's transitions
gain what every timeline records (action, source, note, detail) and are reached as
``events``; a transfer request gets a timeline, written from the steps stamped on
each request so far. Existing transitions keep their rows as they are (an empty
``action``: the key is recorded from now on)."""

import django.db.models.deletion
from django.db import migrations, models

# The steps stamped on a request: (status, action, who, when).
STEPS = (
    ("dispatched", "transfer_dispatch", "dispatched_by", "dispatched_at"),
    ("received", "transfer_receive", "received_by", "received_at"),
    ("cancelled", "transfer_cancel", "cancelled_by", "cancelled_at"),
)


def transfer_timelines(apps, schema_editor):
    TransferRequest = apps.get_model("inventory", "TransferRequest")
    TransferEvent = apps.get_model("inventory", "TransferEvent")
    events = []
    for transfer in TransferRequest.objects.order_by("pk").iterator():
        events.append(
            TransferEvent(
                transfer=transfer,
                action="transfer_request",
                to_status="requested",
                actor=transfer.requested_by,
                note=transfer.reason,
                at=transfer.requested_at,
            )
        )
        before = "requested"
        for status, action, by, at in STEPS:
            if getattr(transfer, at) is None:
                continue
            events.append(
                TransferEvent(
                    transfer=transfer,
                    action=action,
                    from_status=before,
                    to_status=status,
                    actor=getattr(transfer, by),
                    at=getattr(transfer, at),
                )
            )
            before = status
    TransferEvent.objects.bulk_create(events, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0018_hold_from_files"),
    ]

    operations = [
        migrations.AddField(
            model_name="reservationtransition",
            name="action",
            field=models.CharField(
                blank=True,
                help_text="What was done, as a stable key (the service's name for it).",
                max_length=40,
            ),
        ),
        migrations.AddField(
            model_name="reservationtransition",
            name="detail",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="reservationtransition",
            name="kind",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="reservationtransition",
            name="note",
            field=models.CharField(
                blank=True, help_text="Why, in words.", max_length=1000
            ),
        ),
        migrations.AddField(
            model_name="reservationtransition",
            name="source",
            field=models.CharField(
                blank=True,
                help_text="From which system: a channel, the back-office, or the system.",
                max_length=64,
            ),
        ),
        migrations.AlterField(
            model_name="reservationtransition",
            name="actor",
            field=models.CharField(
                help_text="user:…, token:… or system:….", max_length=160
            ),
        ),
        migrations.AlterField(
            model_name="reservationtransition",
            name="from_status",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="reservationtransition",
            name="reservation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="inventory.reservation",
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
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="TransferEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("kind", models.CharField(blank=True, max_length=20)),
                (
                    "action",
                    models.CharField(
                        blank=True,
                        help_text="What was done, as a stable key (the service's name for it).",
                        max_length=40,
                    ),
                ),
                ("from_status", models.CharField(blank=True, max_length=20)),
                (
                    "actor",
                    models.CharField(
                        help_text="user:…, token:… or system:….", max_length=160
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        blank=True,
                        help_text="From which system: a channel, the back-office, or the system.",
                        max_length=64,
                    ),
                ),
                (
                    "note",
                    models.CharField(
                        blank=True, help_text="Why, in words.", max_length=1000
                    ),
                ),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("at", models.DateTimeField()),
                (
                    "to_status",
                    models.CharField(
                        choices=[
                            ("requested", "Requested"),
                            ("dispatched", "Dispatched: on the way"),
                            ("received", "Received"),
                            ("cancelled", "Cancelled"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "transfer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="inventory.transferrequest",
                    ),
                ),
            ],
            options={
                "ordering": ["at", "id"],
                "abstract": False,
            },
        ),
        migrations.RunPython(transfer_timelines, migrations.RunPython.noop),
    ]
