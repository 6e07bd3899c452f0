"""Channel sync's writes: placing changes in the feed (``feed``, under the feed's
lock, ``feed_state``), webhook subscriptions (``subscriptions``) and sending their
deliveries (``webhooks``), the channels' network figures and their changes
(``network``), and the sources' health (``health``)."""

from .feed import changes_place, feed_prune, feed_skip_after_restore
from .health import sync_health_check
from .network import network_figures_catch_up, network_figures_refresh, networks_behind
from .subscriptions import (
    SubscriptionInput,
    webhook_resend,
    webhook_secret_rotate,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_update,
)
from .webhooks import webhook_deliveries_send

__all__ = [
    "SubscriptionInput",
    "changes_place",
    "feed_prune",
    "feed_skip_after_restore",
    "network_figures_catch_up",
    "network_figures_refresh",
    "networks_behind",
    "sync_health_check",
    "webhook_deliveries_send",
    "webhook_resend",
    "webhook_secret_rotate",
    "webhook_subscription_create",
    "webhook_subscription_delete",
    "webhook_subscription_update",
]
