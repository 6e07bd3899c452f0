"""The settings of what integrations meet: channel sync and webhooks (docs/sync.md),
Idempotency-Key (docs/api.md) and file imports (docs/imports.md). Kept apart from
config/settings.py for length; it star-imports them.

Environment:
    WEBHOOK_SECRET_GRACE_HOURS  after a secret is rotated, deliveries carry the old
                            secret's signature beside the new one this long (24).
    IDEMPOTENCY_KEY_HOURS   how long an Idempotency-Key and its first answer are kept
                            (default 24).
    IMPORT_MAX_FILE_MB      the largest file POST /api/v1/imports/ accepts (200).
    IMPORT_PAGE_ROWS        rows written per committed page of an import (50000).
    IMPORT_QUEUE            the Celery queue import jobs run on (default celery).
"""

import os

from config.env import env_bool

# Channel sync (sync app, docs/sync.md).
# Changes of one SKU and location within this window go out as one webhook event.
WEBHOOK_COALESCE_SECONDS = float(os.environ.get("WEBHOOK_COALESCE_SECONDS", "0.2"))
# Seconds to wait after the 1st, 2nd, ... failed attempt; once they have run out
# (about 24 hours with the default) the subscription is failing.
WEBHOOK_RETRY_SCHEDULE = [
    int(seconds)
    for seconds in os.environ.get(
        "WEBHOOK_RETRY_SCHEDULE",
        "10,30,60,300,900,1800,3600,7200,14400,28800,28800",
    ).split(",")
]
# Webhook URLs may point at private, loopback or link-local addresses only when set
# (tests, a receiver on the same machine); otherwise they are refused at subscribing.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5"))
WEBHOOK_SEND_BATCH = 100
SYNC_PLACE_BATCH = 5000
SYNC_QUEUE = os.environ.get("SYNC_QUEUE", "celery")
SYNC_FEED_PAGE_MAX = 1000
# How long changes stay readable in the feed (and re-sendable).
SYNC_FEED_RETENTION_DAYS = int(os.environ.get("SYNC_FEED_RETENTION_DAYS", "14"))
# A source newly seen is watched at this interval until a manager says otherwise.
SYNC_EXPECTED_INTERVAL_SECONDS = int(
    os.environ.get(
        "SYNC_EXPECTED_INTERVAL_SECONDS",
        os.environ.get("ONESTOCK_POS_DELAY_SECONDS", "900"),
    )
)
# Availability reads "estimated" where a source's p95 lag over the hour is above this.
SYNC_ESTIMATED_LAG_SECONDS = int(os.environ.get("SYNC_ESTIMATED_LAG_SECONDS", "120"))
# After POST /api/v1/webhooks/{id}/rotate-secret/, deliveries are signed with the old
# secret too for this long, so a receiver can switch without missing one.
WEBHOOK_SECRET_GRACE_HOURS = float(os.environ.get("WEBHOOK_SECRET_GRACE_HOURS", "24"))

# Idempotency-Key (integrations/idempotency.py): a key and its first answer are kept
# at least this long; beat forgets older ones.
IDEMPOTENCY_KEY_HOURS = float(os.environ.get("IDEMPOTENCY_KEY_HOURS", "24"))

# File imports (imports app): the largest file accepted, the rows written per
# committed page, and the queue the jobs run on.
IMPORT_MAX_FILE_MB = int(os.environ.get("IMPORT_MAX_FILE_MB", "200"))
IMPORT_PAGE_ROWS = int(os.environ.get("IMPORT_PAGE_ROWS", "50000"))
IMPORT_QUEUE = os.environ.get("IMPORT_QUEUE", "celery")
