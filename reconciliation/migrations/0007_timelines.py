"""The timelines of cases, counts and runs take the one shape of
``config.timeline.TimelineEvent``. A run's ``log`` (a list of who did what when)
becomes its timeline, ``ReconciliationRunEvent``: every entry is copied before the
column goes, and going back rebuilds the log from the timeline."""

import django.db.models.deletion
from django.db import migrations, models
from django.utils.dateparse import parse_datetime

# What each log word did, and the status it left the run in.
LOGGED = {
    "started": ("reconciliation_run_start", "running"),
    "resumed": ("reconciliation_run_resume", "running"),
    "failed": ("reconciliation_run_fail", "failed"),
    "interrupted": ("reconciliation_run_stop", "failed"),
    "abandoned": ("reconciliation_run_abandon", "abandoned"),
    "finished": ("reconciliation_run_finish", "finished"),
}


def log_to_events(apps, schema_editor):
    Run = apps.get_model("reconciliation", "ReconciliationRun")
    Event = apps.get_model("reconciliation", "ReconciliationRunEvent")
    for run in Run.objects.exclude(log=[]).iterator():
        before = ""
        events = []
        for entry in run.log:
            action, to_status = LOGGED.get(entry["event"], ("", ""))
            events.append(
                Event(
                    run=run,
                    kind=entry["event"],
                    action=action,
                    from_status=before,
                    to_status=to_status,
                    actor=entry["by"],
                    source="system" if entry["by"].startswith("system") else "",
                    at=parse_datetime(entry["at"]),
                )
            )
            before = to_status
        Event.objects.bulk_create(events)


def events_to_log(apps, schema_editor):
    Run = apps.get_model("reconciliation", "ReconciliationRun")
    for run in Run.objects.filter(events__isnull=False).distinct().iterator():
        run.log = [
            {"event": event.kind, "by": event.actor, "at": event.at.isoformat()}
            for event in run.events.order_by("at", "id")
        ]
        run.save(update_fields=["log"])


class Migration(migrations.Migration):

    dependencies = [
        ('reconciliation', '0006_sales_rates_job'),
    ]

    operations = [
        migrations.AddField(
            model_name='counttaskevent',
            name='action',
            field=models.CharField(blank=True, help_text="What was done, as a stable key (the service's name for it).", max_length=40),
        ),
        migrations.AddField(
            model_name='counttaskevent',
            name='detail',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='counttaskevent',
            name='kind',
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name='counttaskevent',
            name='source',
            field=models.CharField(blank=True, help_text='From which system: a channel, the back-office, or the system.', max_length=64),
        ),
        migrations.AddField(
            model_name='exceptionevent',
            name='action',
            field=models.CharField(blank=True, help_text="What was done, as a stable key (the service's name for it).", max_length=40),
        ),
        migrations.AddField(
            model_name='exceptionevent',
            name='detail',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='exceptionevent',
            name='source',
            field=models.CharField(blank=True, help_text='From which system: a channel, the back-office, or the system.', max_length=64),
        ),
        migrations.AlterField(
            model_name='counttaskevent',
            name='actor',
            field=models.CharField(help_text='user:…, token:… or system:….', max_length=160),
        ),
        migrations.AlterField(
            model_name='counttaskevent',
            name='note',
            field=models.CharField(blank=True, help_text='Why, in words.', max_length=1000),
        ),
        migrations.AlterField(
            model_name='counttaskevent',
            name='to_status',
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name='exceptionevent',
            name='actor',
            field=models.CharField(help_text='user:…, token:… or system:….', max_length=160),
        ),
        migrations.AlterField(
            model_name='exceptionevent',
            name='from_status',
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name='exceptionevent',
            name='kind',
            field=models.CharField(choices=[('raised', 'Raised'), ('raised_again', 'Raised again'), ('assigned', 'Assigned'), ('comment', 'Comment'), ('resolved', 'Resolved')], max_length=20),
        ),
        migrations.AlterField(
            model_name='exceptionevent',
            name='note',
            field=models.CharField(blank=True, help_text='Why, in words.', max_length=1000),
        ),
        migrations.AlterField(
            model_name='exceptionevent',
            name='to_status',
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.CreateModel(
            name='ReconciliationRunEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(blank=True, help_text="What was done, as a stable key (the service's name for it).", max_length=40)),
                ('from_status', models.CharField(blank=True, max_length=20)),
                ('to_status', models.CharField(blank=True, max_length=20)),
                ('actor', models.CharField(help_text='user:…, token:… or system:….', max_length=160)),
                ('source', models.CharField(blank=True, help_text='From which system: a channel, the back-office, or the system.', max_length=64)),
                ('note', models.CharField(blank=True, help_text='Why, in words.', max_length=1000)),
                ('detail', models.JSONField(blank=True, default=dict)),
                ('at', models.DateTimeField()),
                ('kind', models.CharField(choices=[('started', 'Started'), ('resumed', 'Resumed'), ('failed', 'Failed'), ('interrupted', 'Interrupted'), ('abandoned', 'Abandoned'), ('finished', 'Finished')], max_length=20)),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='reconciliation.reconciliationrun')),
            ],
            options={
                'ordering': ['at', 'id'],
                'abstract': False,
            },
        ),
        migrations.RunPython(log_to_events, events_to_log),
        migrations.RemoveField(
            model_name='reconciliationrun',
            name='log',
        ),
    ]
