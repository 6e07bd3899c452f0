"""Channel sync's jobs on beat: the availability push every 10 seconds (for changes a
kick after commit missed, and for retries falling due), the sources' health every
minute, and the feed's old changes pruned nightly at 04:15."""

from django.db import migrations

JOBS = [
    ("Availability push sweep", "sync.push_availability", {"every": 10},
     "Places committed changes in the feed and sends due webhook deliveries."),
    ("Sources' sync health", "sync.check_sources", {"every": 60},
     "Measures each source's last event, lag and refusals; raises sync_delayed."),
    ("Change feed pruning", "sync.prune_feed", {"crontab": ("15", "4")},
     "Drops changes older than SYNC_FEED_RETENTION_DAYS that nothing waits on."),
]  # fmt: skip


def register(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, when, description in JOBS:
        schedule = {}
        if "every" in when:
            schedule["interval"], _ = Interval.objects.get_or_create(
                every=when["every"], period="seconds"
            )
        else:
            minute, hour = when["crontab"]
            schedule["crontab"], _ = Crontab.objects.get_or_create(
                minute=minute, hour=hour, day_of_week="*", day_of_month="*",
                month_of_year="*",
            )
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "description": description, **schedule}
        )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__in=[task for _, task, _, _ in JOBS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0001_webhooks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
