"""Register reconciliation's nightly jobs with django-celery-beat (cycle counts at
01:30, the ledger drift check at 03:30, in the server's time zone; staff can see and
pause them in the admin), and bring the oversell conflicts already open into the
exception queue, one case per SKU and location."""

from django.db import migrations
from django.utils import timezone

JOBS = {
    "Generate tonight's cycle counts": (
        "reconciliation.generate_cycle_counts",
        "30",
        "1",
        "A blind count per location: the rotation plus a sample weighted to fast "
        "movers and SKUs with recent exceptions.",
    ),
    "Check the balances against the ledger": (
        "reconciliation.check_ledger_drift",
        "30",
        "3",
        "Every balance recomputed from the ledger; a difference is repaired and "
        "raised as ledger drift.",
    ),
}


def register(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, minute, hour, description) in JOBS.items():
        when, _ = Crontab.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
        )
        PeriodicTask.objects.get_or_create(
            name=name,
            defaults={"task": task, "crontab": when, "description": description},
        )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=list(JOBS)
    ).delete()


def open_conflicts_into_queue(apps, schema_editor):
    StockConflict = apps.get_model("inventory", "StockConflict")
    ExceptionCase = apps.get_model("reconciliation", "ExceptionCase")
    ExceptionEvent = apps.get_model("reconciliation", "ExceptionEvent")
    now = timezone.now()
    seen = set()
    for conflict in StockConflict.objects.filter(status="open").order_by("created_at"):
        key = f"oversell:{conflict.sku_id}@{conflict.location_id}"
        if key in seen:
            continue
        seen.add(key)
        case = ExceptionCase.objects.create(
            kind="oversell_conflict",
            key=key,
            title=f"{conflict.shortfall} promised unit(s) not on hand",
            detail="Open before the exception queue existed.",
            sku_id=conflict.sku_id,
            location_id=conflict.location_id,
            stock_conflict=conflict,
            facts={"shortfall": conflict.shortfall, "promised": conflict.promised},
            first_raised_at=conflict.created_at,
            last_raised_at=conflict.created_at,
        )
        ExceptionEvent.objects.create(
            case=case, kind="raised", to_status="open", actor="migration", at=now
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(register, unregister),
        migrations.RunPython(open_conflicts_into_queue, migrations.RunPython.noop),
    ]
