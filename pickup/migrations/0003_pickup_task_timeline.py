"""The task's timeline takes the shared shape (config.timeline.TimelineEvent): the
status columns and the note grow to its lengths, and it gains ``action``, ``kind``,
``source`` and ``detail``. Every row is kept; a step that changed status is given
the action key it would be recorded with today (a note-only step keeps none)."""

from django.db import migrations, models

# The keys pickup.services.shared.STEP_ACTIONS records, frozen here.
ACTIONS = {
    "claimed": "pickup_claim",
    "picking": "pickup_start",
    "on_hold": "pickup_hold",
    "picked": "pickup_picked",
    "ready": "pickup_ready",
    "collected": "pickup_collect",
    "closed": "pickup_close",
    "cancelled": "pickup_cancel",
    "expired": "pickup_expire",
}


def name_the_steps(apps, schema_editor):
    Event = apps.get_model("pickup", "PickupTaskEvent")
    steps = Event.objects.filter(action="")
    steps.filter(to_status="new", from_status="").update(action="pickup_open")
    steps.filter(to_status="new", from_status="claimed").update(
        action="pickup_release"
    )
    for to_status, action in ACTIONS.items():
        steps.filter(to_status=to_status).update(action=action)


class Migration(migrations.Migration):
    dependencies = [
        ("pickup", "0002_pickup_jobs_on_beat"),
    ]

    operations = [
        migrations.AddField(
            model_name="pickuptaskevent",
            name="action",
            field=models.CharField(
                blank=True,
                help_text="What was done, as a stable key (the service's name for it).",
                max_length=40,
            ),
        ),
        migrations.AddField(
            model_name="pickuptaskevent",
            name="detail",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="pickuptaskevent",
            name="kind",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="pickuptaskevent",
            name="source",
            field=models.CharField(
                blank=True,
                help_text="From which system: a channel, the back-office, or the system.",
                max_length=64,
            ),
        ),
        migrations.AlterField(
            model_name="pickuptaskevent",
            name="actor",
            field=models.CharField(
                help_text="user:…, token:… or system:….", max_length=160
            ),
        ),
        migrations.AlterField(
            model_name="pickuptaskevent",
            name="from_status",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="pickuptaskevent",
            name="to_status",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="pickuptaskevent",
            name="note",
            field=models.CharField(
                blank=True, help_text="Why, in words.", max_length=1000
            ),
        ),
        migrations.RunPython(name_the_steps, migrations.RunPython.noop),
    ]
