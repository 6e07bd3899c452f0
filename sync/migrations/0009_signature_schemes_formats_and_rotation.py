"""Standard Webhooks, CloudEvents and secret rotation: every subscription made before
keeps the ``onestock-v1`` signature its receiver checks (added with that default,
which then becomes ``standard`` for new rows), and today's body (``onestock``)."""

from django.db import migrations, models

SCHEMES = [
    ("standard", "Standard Webhooks (webhook-id, -timestamp, -signature)"),
    ("onestock-v1", "OneStock v1 (OneStock-Signature, hex)"),
]
SCHEME_HELP = (
    "standard: Standard Webhooks' headers; onestock-v1: the OneStock-Signature "
    "header of subscriptions made before it."
)


class Migration(migrations.Migration):
    dependencies = [("sync", "0008_order_supply_arrived")]

    operations = [
        migrations.AddField(
            model_name="webhooksubscription",
            name="signature_scheme",
            field=models.CharField(
                choices=SCHEMES,
                default="onestock-v1",
                help_text=SCHEME_HELP,
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="webhooksubscription",
            name="signature_scheme",
            field=models.CharField(
                choices=SCHEMES, default="standard", help_text=SCHEME_HELP,
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="format",
            field=models.CharField(
                choices=[
                    ("onestock", "OneStock's event JSON"),
                    ("cloudevents", "CloudEvents 1.0, structured JSON"),
                ],
                default="onestock",
                help_text="onestock: the event as documented; cloudevents: the event "
                "as a CloudEvent (structured JSON, application/cloudevents+json).",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret",
            field=models.CharField(blank=True, editable=False, max_length=100),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret_expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
