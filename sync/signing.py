"""How a delivery is signed, per subscription's ``signature_scheme``, and how a
receiver checks it (docs/sync.md, "Checking the signature (receiver side)", shows the
same checks for a receiver's own code).

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
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SIGNATURE_HEADER = "OneStock-Signature"
EVENT_ID_HEADER = "OneStock-Event-Id"
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
TOLERANCE_SECONDS = 300
STANDARD = "standard"
ONESTOCK_V1 = "onestock-v1"


def signed_headers(
    *, scheme: str, secrets: Sequence[str], event_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers naming and signing ``body`` under ``scheme``, one signature per
    secret in ``secrets`` (the current one first)."""
    if scheme == STANDARD:
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


def signature_for(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``onestock-v1`` header for one secret."""
    return f"t={timestamp},v1={_onestock_digest(secret, timestamp, body)}"


def _onestock_digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_is_valid(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What an ``onestock-v1`` receiver does: the header parsed, the age checked,
    each ``v1`` digest compared in constant time (two during a rotation's grace)."""
    timestamp, digests = None, []
    for part in header.split(","):
        name, _, value = part.partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            digests.append(value)
    try:
        timestamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = _onestock_digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, digest) for digest in digests)
