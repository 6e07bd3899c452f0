"""The nightly transfer proposals, at 03:00 in the server's time zone: after the
rates of sale (02:30) and the velocity buffers (02:45) they read, before the nightly
reconciliation (03:30)."""

from django.db import migrations

NAME = "Transfer proposals"
TASK = "reconciliation.propose_transfers"


def register(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    when, _ = Crontab.objects.get_or_create(
        minute="0", hour="3", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": when,
            "description": "Transfers from locations whose stock outlasts "
            "TRANSFER_SURPLUS_DAYS of sales to those that run out within "
            "TRANSFER_SHORTAGE_DAYS, along the lanes set, for a manager to decide "
            "(/store/transfers/).",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task=TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0010_transfer_proposals"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
