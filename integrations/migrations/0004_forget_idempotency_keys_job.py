"""Idempotency-Keys past their retention forgotten every hour, at 17 minutes past
(away from the other jobs' round hours): a key is kept IDEMPOTENCY_KEY_HOURS at least,
and at most an hour more."""

from django.db import migrations

NAME = "Forget old idempotency keys"
TASK = "integrations.forget_idempotency_keys"


def register(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    when, _ = Crontab.objects.get_or_create(
        minute="17", hour="*", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": when,
            "description": "Idempotency-Keys older than IDEMPOTENCY_KEY_HOURS are "
            "forgotten, with the answers kept for them (docs/api.md).",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task=TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0003_idempotency_keys"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
