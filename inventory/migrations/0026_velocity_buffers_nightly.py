"""The nightly recompute of velocity buffers (every channel whose buffer policy is
``velocity``: inventory.services.buffers), at 02:45 in the server's time zone, before
the morning's trade; staff can see, move or pause it in the admin."""

from django.db import migrations

NAME = "Velocity buffers from the rate of sale"
TASK = "inventory.recompute_velocity_buffers"


def register(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    when, _ = Crontab.objects.get_or_create(
        minute="45", hour="2", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": when,
            "description": "Each velocity channel's buffer at every SKU-location of "
            "its network, from its units sold there over the trailing "
            "SALES_RATE_DAYS (docs/channels.md).",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task=TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0025_channel_terms_in_the_hold"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
