"""The feed's own row (``FeedState``), locked: one placer, pruner or network summer
at a time. Both feeds take their positions from it, the changes at a location
(``feed``) and the network figures' changes (``network``), so each gives its
positions in commit order, with no gaps; and both are pruned the same way
(``changes_prune``)."""

from django.db import IntegrityError, transaction
from django.db.models import Max

from inventory.models import AvailabilityChange

from ..models import FeedState, NetworkChange, WebhookDelivery


def feed_state_locked() -> FeedState:
    """The feed's row, locked until the transaction ends. Made if missing (a test
    that empties every table removes it), going on from the positions kept."""
    try:
        return FeedState.objects.select_for_update(no_key=True).get(pk=1)
    except FeedState.DoesNotExist:
        placed = AvailabilityChange.objects.aggregate(last=Max("position"))["last"]
        summed = NetworkChange.objects.aggregate(last=Max("position"))["last"]
        try:
            with transaction.atomic():
                FeedState.objects.create(
                    pk=1, last_position=placed or 0, network_last_position=summed or 0
                )
        except IntegrityError:
            pass  # another placer made it first
        return FeedState.objects.select_for_update(no_key=True).get(pk=1)


def changes_prune(*, old, link: str) -> tuple[int, int | None]:
    """Delete the changes of ``old`` (a queryset of either feed's changes) that no
    pending delivery points at (through its field ``link``: ``change`` or
    ``network_change``), with the delivered deliveries that point at them (and
    their attempts); how many, and the highest position deleted. Under the feed's
    lock, in the caller's transaction."""
    Status = WebhookDelivery.Status
    WebhookDelivery.objects.filter(
        **{f"{link}__in": old, "status": Status.DELIVERED}
    ).delete()
    # Only the deliveries of this feed's kind: the other's NULL would keep them all.
    waiting = WebhookDelivery.objects.filter(
        **{f"{link}__isnull": False, "status": Status.PENDING}
    ).values(f"{link}_id")
    dropped = old.exclude(pk__in=waiting)
    highest = dropped.aggregate(highest=Max("position"))["highest"]
    deleted, _ = dropped.delete()
    return deleted, highest
