"""The nightly drift check becomes the nightly reconciliation (drift, then the
channels' snapshots), at the same time of night: 03:30, the server's time zone."""

from django.db import migrations

OLD_TASK = "reconciliation.check_ledger_drift"
NAME = "Nightly reconciliation"
TASK = "reconciliation.reconcile"
DESCRIPTION = (
    "Every balance recomputed from the ledger (a difference is repaired and raised "
    "as ledger drift), then each channel's latest snapshot compared with the ledger "
    "as of its moment. Each run is listed under /store/reconciliation/."
)


def register(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=OLD_TASK).delete()
    when, _ = Crontab.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME, defaults={"task": TASK, "crontab": when, "description": DESCRIPTION}
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task=TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0003_runs_and_snapshots"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
