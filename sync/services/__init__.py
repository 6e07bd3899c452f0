"""Channel sync's writes: placing changes in the feed (``feed``), webhook
subscriptions and their deliveries (``webhooks``), and the sources' health
(``health``)."""

from .feed import changes_place, feed_prune, feed_skip_after_restore
from .health import sync_health_check
from .webhooks import (
    SubscriptionInput,
    webhook_deliveries_send,
    webhook_resend,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_update,
)

__all__ = [
    "SubscriptionInput",
    "changes_place",
    "feed_prune",
    "feed_skip_after_restore",
    "sync_health_check",
    "webhook_deliveries_send",
    "webhook_resend",
    "webhook_subscription_create",
    "webhook_subscription_delete",
    "webhook_subscription_update",
]
