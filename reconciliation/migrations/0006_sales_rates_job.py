"""The nightly rate of sale per SKU and location (the dashboard's days of supply),
at 02:30 in the server's time zone."""

from django.db import migrations

NAME = "Rates of sale for days of supply"
TASK = "reconciliation.refresh_sales_rates"


def register(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    when, _ = Crontab.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": when,
            "description": "Units sold per SKU and location over the trailing "
            "SALES_RATE_DAYS, for the dashboard's days of supply and stock at risk.",
        },
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task=TASK
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0005_sales_rates"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
