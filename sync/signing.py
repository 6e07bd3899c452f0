"""How a delivery is signed, and how a receiver checks it (docs/sync.md, "Checking the
signature (receiver side)", shows the same check for a receiver's own code).

``OneStock-Signature: t=<unix seconds>,v1=<hex>``, where the hex is the
HMAC-SHA256, keyed with the subscription's secret, of ``"<t>." + body`` (the body's
exact bytes). The timestamp is signed too, so a captured delivery replayed later is
refused by a receiver that checks its age.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "OneStock-Signature"
EVENT_ID_HEADER = "OneStock-Event-Id"
TOLERANCE_SECONDS = 300


def signature_for(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_is_valid(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: the header parsed, the age checked, the digest compared
    in constant time."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = signature_for(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, f"t={timestamp},v1={parts.get('v1', '')}")
