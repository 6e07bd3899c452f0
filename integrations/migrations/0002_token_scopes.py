"""Tokens carry scopes. A token issued before them keeps doing what it did, except
that a channel's token no longer writes master data (the retailer's); nor did it read
the exception queue before, nor does it now."""

from django.db import migrations, models

# Frozen here: the names as they were when this migration was written.
EVERY_SCOPE = [
    "read_master_data",
    "write_master_data",
    "read_availability",
    "post_stock_events",
    "reserve_and_order",
    "returns",
    "snapshots",
    "exceptions",
    "webhooks",
]


def give_existing_tokens_their_scopes(apps, schema_editor):
    ApiToken = apps.get_model("integrations", "ApiToken")
    ApiToken.objects.filter(channel__isnull=True).update(scopes=EVERY_SCOPE)
    ApiToken.objects.filter(channel__isnull=False).update(
        scopes=[
            scope
            for scope in EVERY_SCOPE
            if scope not in ("write_master_data", "exceptions")
        ]
    )


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.JSONField(
                default=list,
                editable=False,
                help_text="What kinds of call the token may make (docs/security.md).",
            ),
        ),
        migrations.RunPython(
            give_existing_tokens_their_scopes, migrations.RunPython.noop
        ),
    ]
