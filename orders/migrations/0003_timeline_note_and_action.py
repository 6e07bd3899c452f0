"""The order's timeline takes the one shape of every timeline
(config.timeline.TimelineEvent): ``reason`` becomes ``note`` (the same column, its
text kept), and ``action`` names the service that recorded each entry."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_short_units"),
    ]

    operations = [
        migrations.RenameField(
            model_name="orderevent",
            old_name="reason",
            new_name="note",
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="note",
            field=models.CharField(
                blank=True, help_text="Why, in words.", max_length=500
            ),
        ),
        migrations.AddField(
            model_name="orderevent",
            name="action",
            field=models.CharField(
                blank=True,
                help_text="What was done, as a stable key (the service's name for it).",
                max_length=40,
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="actor",
            field=models.CharField(
                help_text="user:…, token:… or system:….", max_length=160
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="source",
            field=models.CharField(
                blank=True,
                help_text="From which system: a channel, the back-office, or the system.",
                max_length=64,
            ),
        ),
    ]
