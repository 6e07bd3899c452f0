"""Register the pickup jobs with django-celery-beat from the first migrate: reminders
and expiry of uncollected orders every 15 minutes, escalation of undecided problems
at picking every 5. Staff can see and pause them in the admin."""

from django.db import migrations

JOBS = [
    (
        "Remind customers of uncollected pickups",
        "pickup.send_reminders",
        15,
        "Emails each customer once, before their ready order expires.",
    ),
    (
        "Expire uncollected pickups",
        "pickup.expire_uncollected",
        15,
        "Cancels ready orders past their hold days; staff put the units back.",
    ),
    (
        "Escalate undecided picking problems",
        "pickup.escalate_problems",
        5,
        "Sends problems at picking nobody decided on to the manager.",
    ),
]


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes, description in JOBS:
        every, _ = IntervalSchedule.objects.get_or_create(
            every=minutes, period="minutes"
        )
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": task, "interval": every, "description": description},
        )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[name for name, *_ in JOBS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pickup", "0001_pickup_tasks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
