"""Import jobs' sweep on beat, every minute: a job whose kick was lost (the broker
was down) or whose worker stopped half-way is handed to a worker again
(``imports.services.import_jobs_sweep``)."""

from django.db import migrations

NAME = "Import jobs sweep"
TASK = "imports.sweep"


def register(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = Interval.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "interval": every,
            "description": "Hands to a worker again the import jobs left queued or "
            "cut off (no heartbeat for two minutes); they carry on after their last "
            "written page.",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task=TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_import_jobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
