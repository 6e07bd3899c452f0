"""Register the returns job with django-celery-beat from the first migrate: returns
waiting too long for inspection are flagged for the manager every 15 minutes. Staff
can see and pause it in the admin."""

from django.db import migrations

NAME = "Flag returns waiting too long for inspection"
TASK = "returns.flag_overdue_inspections"


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "interval": every,
            "description": "Returns received longer ago than "
            "RETURNS_INSPECTION_TARGET_HOURS and not graded go to the manager.",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name=NAME
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
