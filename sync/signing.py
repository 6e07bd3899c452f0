"""How a delivery is signed, per subscription's ``signature_scheme`` (docs/sync.md,
"Checking the signature (receiver side)", shows how a receiver checks each).

``standard`` (Standard Webhooks, https://www.standardwebhooks.com/): headers
``webhook-id`` (the event's id), ``webhook-timestamp`` (unix seconds) and
``webhook-signature: v1,<base64>``, the HMAC-SHA256 of ``"<id>.<timestamp>." + body``
keyed with the secret's bytes (``whsec_<base64>`` decoded), computed by the
``standardwebhooks`` package so any of its libraries verifies it.

``onestock-v1`` (subscriptions made before): ``OneStock-Event-Id``, and
``OneStock-Signature: t=<unix seconds>,v1=<hex>``, where the hex is the HMAC-SHA256,
keyed with the secret used whole as UTF-8, of ``"<t>." + body``.

After a rotation, while the previous secret's grace lasts, each scheme carries one
signature per secret, the current one first: ``standard`` space-separated ``v1,``
entries (as its spec allows), ``onestock-v1`` a second ``v1=`` entry. Either way the
timestamp is signed too, so a captured delivery replayed later is refused by a
receiver that checks its age.
"""

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from .models import WebhookSubscription

SIGNATURE_HEADER = "OneStock-Signature"
EVENT_ID_HEADER = "OneStock-Event-Id"
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"


def signed_headers(
    *, scheme: str, secrets: Sequence[str], event_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers naming and signing ``body`` under ``scheme``, one signature per
    secret in ``secrets`` (the current one first)."""
    if scheme == WebhookSubscription.SignatureScheme.STANDARD:
        moment = datetime.fromtimestamp(timestamp, tz=UTC)
        return {
            STANDARD_ID_HEADER: event_id,
            STANDARD_TIMESTAMP_HEADER: str(timestamp),
            STANDARD_SIGNATURE_HEADER: " ".join(
                Webhook(secret).sign(event_id, moment, body) for secret in secrets
            ),
        }
    digests = ",".join(
        f"v1={_onestock_digest(secret, timestamp, body)}" for secret in secrets
    )
    return {EVENT_ID_HEADER: event_id, SIGNATURE_HEADER: f"t={timestamp},{digests}"}


def _onestock_digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
