"""The network kind: each selling channel's availability of a SKU across its
network, summed (``inventory.network_selectors``, from the one rule), kept
(``NetworkFigure``) and announced when its total moves (``NetworkChange``, the
``network_availability.changed`` events and the feed's ``?kind=network``).

``network_figures_refresh`` sums the networks again for some SKUs (and the kits
containing any of them: a kit's figures are its components'), for every selling
channel (open, not a back-office system), under the feed's lock
(``feed_state_locked``): refreshes never interleave, so a later sum is never
overwritten by an earlier one, and the network feed's positions are given in commit
order with no gaps. A figure whose ``available_to_promise`` moved takes the next
``sequence``, a ``NetworkChange`` with the next network position, and a pending
delivery for each subscription of its channel that asked for the network kind
(coalesced per subscription and SKU, like the kind at a location). A figure whose
other numbers moved (on hand, available, status, the locations with stock) is
rewritten without a new sequence: the sequence counts the total's moves only.

When it runs: ``network_figures_catch_up``, for the SKUs of the changes placed
since it last ran (``FeedState.network_through``): the push job's own job
(``sync.sum_networks``, kicked at most once a second while changes are placed and
a subscription asks for the network kind, and by beat's sweep), a read of the
network feed, and the feed's placing when called directly; and
``network_figures_current``, when a read finds a stored total that differs from the
live one.
"""

from collections.abc import Collection, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from catalog.kits import kits_containing
from catalog.models import Channel, Sku
from config import metrics
from inventory.models import AvailabilityChange
from inventory.network_selectors import NetworkRow, network_figures

from ..models import (
    EventKind,
    FeedState,
    NetworkChange,
    NetworkFigure,
    WebhookDelivery,
    WebhookSubscription,
)
from ..network_selectors import (
    network_body,
    network_change_events,
    network_changes_by_id,
    selling_channels,
    stored_figures,
)
from .feed_state import changes_prune, feed_state_locked
from .low_stock import LowStockMarks, network_crossing

DELIVERIES = WebhookDelivery._meta.db_table
# What a figure holds beside its sequence, as summed.
FIGURES = ("available_to_promise", "on_hand", "available", "locations", "status")
Key = tuple[int, int]  # (channel id, SKU id)


def network_figures_refresh(*, sku_ids: Collection[int]) -> dict[Key, NetworkFigure]:
    """Sum every selling channel's network again for these SKUs, and the kits
    containing any of them, and keep the sums; a total that moved takes its next
    sequence and is announced. Returns every
    (channel, SKU) figure as it now stands (one never stored: all 0, sequence 0).
    One transaction, under the feed's lock, then the figures' rows in key order;
    reads on the primary."""
    sku_ids = set(sku_ids)
    if not sku_ids:
        return {}
    with transaction.atomic():
        state = feed_state_locked()
        channels = selling_channels()
        # A component's kits are summed with it: their figures are made of its.
        for kits in kits_containing(sku_ids=sku_ids).values():
            sku_ids |= kits
        skus = list(
            Sku.objects.filter(pk__in=sku_ids).only(
                "id", "code", "safety_buffer", "is_kit"
            )
        )
        summed = network_figures(channels=channels, skus=skus)
        stored = {
            (figure.channel_id, figure.sku_id): figure
            for figure in NetworkFigure.objects.select_for_update(no_key=True)
            .filter(channel__in=channels, sku_id__in=sku_ids)
            .order_by("channel_id", "sku_id")
        }
        now = timezone.now()
        figures: dict[Key, NetworkFigure] = {}
        new, rewritten, moved = [], [], []
        for key, row in summed.items():
            figure = stored.get(key)
            if figure is None:
                figure = NetworkFigure(channel_id=key[0], sku_id=key[1], changed_at=now)
                if not _differs(figure, row):
                    figures[key] = figure  # nothing there, never was: not kept
                    continue
                new.append(figure)
            elif not _differs(figure, row):
                figures[key] = figure
                continue
            else:
                rewritten.append(figure)
            if figure.available_to_promise != row.available_to_promise:
                figure.sequence += 1
                moved.append((figure, row))
            for name in (*FIGURES, "as_of"):
                setattr(figure, name, getattr(row, name))
            figure.changed_at = now
            figures[key] = figure
        NetworkFigure.objects.bulk_create(new)
        NetworkFigure.objects.bulk_update(
            rewritten, [*FIGURES, "as_of", "sequence", "changed_at"]
        )
        if moved:
            _announce(state, moved, now)
    return figures


def network_figures_catch_up(*, limit: int | None = None) -> int:
    """Sum the networks again for the SKUs of the changes placed since the last
    catch-up (``FeedState.network_through``), at most ``limit`` changes, under the
    feed's lock; how many changes it covered (0: the networks are current). Placing
    and summing are apart so that a change at a location goes out without waiting
    for every channel's network to be summed."""
    limit = limit or settings.SYNC_PLACE_BATCH
    with transaction.atomic():
        state = feed_state_locked()
        through = min(state.last_position, state.network_through + limit)
        if through <= state.network_through:
            return 0
        sku_ids = set(
            AvailabilityChange.objects.filter(
                position__gt=state.network_through, position__lte=through
            ).values_list("sku_id", flat=True)
        )
        covered = through - state.network_through
        state.network_through = through
        state.save(update_fields=["network_through"])
        network_figures_refresh(sku_ids=sku_ids)
    return covered


def networks_behind() -> bool:
    """Whether changes were placed that the network figures have not been summed
    for, while some active subscription asks for the network kind: two short reads.
    Nobody listening, the sums wait for a reader (a read of the network feed, or of
    network availability, sums what it reads first), and the push job pays
    nothing."""
    state = FeedState.objects.filter(pk=1).values_list(
        "last_position", "network_through"
    )
    if not any(last > through for last, through in state):
        return False
    return any(
        subscription.wants(EventKind.NETWORK_AVAILABILITY_CHANGED)
        for subscription in WebhookSubscription.objects.filter(is_active=True).only(
            "event_kinds"
        )
    )


def network_figures_current(*, channel: Channel, skus: Sequence[Sku]) -> list[dict]:
    """The channel's network availability of ``skus`` as answered: the live sums
    (read where this request reads) with the stored sequence. A SKU whose stored
    total differs from the live one (the placing pass has not run since its stock
    moved, or its terms changed) is summed again on the primary first
    (``network_figures_refresh``), and answered as summed there, with the sequence
    that sum took: a sequence is never answered with a total it was not given for."""
    live = network_figures(channels=[channel], skus=skus)
    stored = stored_figures(channel_id=channel.pk, sku_ids=[sku.pk for sku in skus])
    stale = [
        sku.pk
        for sku in skus
        if _stored_total(stored.get(sku.pk))
        != live[(channel.pk, sku.pk)].available_to_promise
    ]
    refreshed = network_figures_refresh(sku_ids=stale) if stale else {}
    rows = []
    for sku in skus:
        key = (channel.pk, sku.pk)
        if key in refreshed:
            figure = refreshed[key]
            rows.append(
                network_body(
                    figure, sku=sku.code, channel=channel.code, sequence=figure.sequence
                )
            )
        else:
            figure = stored.get(sku.pk)
            rows.append(
                network_body(
                    live[key],
                    sku=sku.code,
                    channel=channel.code,
                    sequence=0 if figure is None else figure.sequence,
                )
            )
    return rows


def network_deliveries_queue(
    cursor, *, changes, subscriptions: Collection[int] | None = None
) -> None:
    """A pending delivery, for each subscription of its channel that asked for the
    network kind (of ``subscriptions`` when given), of the latest of ``changes`` (a
    queryset of ``NetworkChange``) per channel and SKU, replacing the change of one
    already pending (never with an older one: ids are given in commit order, under
    the feed's lock)."""
    latest = list(
        changes.order_by("channel_id", "sku_id")
        .values_list("channel_id", "sku_id")
        .annotate(latest=Max("id"))
    )
    if not latest:
        return
    listening: dict[int, list[int]] = {}
    candidates = WebhookSubscription.objects.filter(
        channel_id__in={channel for channel, _, _ in latest}
    )
    if subscriptions is not None:
        candidates = candidates.filter(pk__in=subscriptions)
    for subscription in candidates.order_by("pk"):
        if subscription.wants(EventKind.NETWORK_AVAILABILITY_CHANGED):
            listening.setdefault(subscription.channel_id, []).append(subscription.pk)
    rows: list[object] = []
    for channel_id, sku_id, change_id in latest:
        for subscription_id in listening.get(channel_id, ()):
            rows += [subscription_id, change_id, sku_id]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    for start in range(0, len(rows), 3 * 500):
        chunk = rows[start : start + 3 * 500]
        values = ", ".join(["(%s, %s, %s)"] * (len(chunk) // 3))
        cursor.execute(
            f"INSERT INTO {DELIVERIES} AS delivery (subscription_id, "
            "network_change_id, sku_id, status, created_at, attempts) "
            f"SELECT v.*, 'pending', %s, 0 FROM (VALUES {values}) AS v WHERE true "
            # The index's own condition, as written: SQLite matches it as text.
            "ON CONFLICT (subscription_id, sku_id) "
            "WHERE location_id IS NULL AND status = 'pending' "
            "DO UPDATE SET network_change_id = excluded.network_change_id "
            "WHERE excluded.network_change_id > delivery.network_change_id",
            [now, *chunk],
        )


def network_due_send(subscription: WebhookSubscription, *, deliver) -> tuple[int, bool]:
    """Send the subscription's due network deliveries in the network feed's order,
    each through ``deliver`` (``webhooks._deliver``: the event, then the low-stock
    crossing of the network total it makes, if any), until none is due or a POST
    fails; how many were delivered, and whether none is left due (False: a POST
    failed). The sender calls it once those at a location are sent, holding the
    subscription's claim."""
    delivered = 0
    while True:
        due = list(
            WebhookDelivery.objects.filter(
                subscription_id=subscription.pk,
                status=WebhookDelivery.Status.PENDING,
                network_change__isnull=False,
            ).order_by("network_change__position")[: settings.WEBHOOK_SEND_BATCH]
        )
        changes = network_changes_by_id(ids={item.network_change_id for item in due})
        # One replaced by a newer change and pruned since the read is due again.
        due = [item for item in due if item.network_change_id in changes]
        if not due:
            return delivered, True
        events = network_change_events(
            changes=[changes[item.network_change_id] for item in due]
        )
        marks = LowStockMarks(subscription, keys={(item.sku_id, None) for item in due})
        for delivery, event in zip(due, events, strict=True):
            crossing = network_crossing(
                marks=marks, sku_id=delivery.sku_id, event=event
            )
            if not deliver(subscription, delivery, event, crossing):
                return delivered, False
            metrics.webhook_delivered(
                changed_at=changes[delivery.network_change_id].changed_at
            )
            delivered += 1


def network_changes_prune(*, state: FeedState, before) -> int:
    """Drop the network changes older than ``before`` with their delivered
    deliveries (a change still waiting to be sent stays), and remember the highest
    position dropped: a network cursor before it has lost changes (410). In the
    caller's transaction, under the feed's lock (``state``)."""
    deleted, highest = changes_prune(
        old=NetworkChange.objects.filter(changed_at__lt=before),
        link="network_change",
    )
    if highest is not None and highest > state.network_pruned_through:
        state.network_pruned_through = highest
        state.save(update_fields=["network_pruned_through"])
    return deleted


def network_feed_skip(*, state: FeedState, by: int) -> None:
    """After a point-in-time restore (``feed.feed_skip_after_restore``): the network
    feed's positions jump ``by`` (older cursors read 410), and every figure's
    sequence too, above any a channel may have been sent; the caller saves
    ``state``."""
    state.network_last_position += by
    state.network_pruned_through = state.network_last_position
    NetworkFigure.objects.update(sequence=F("sequence") + by)


def _announce(
    state: FeedState, moved: list[tuple[NetworkFigure, NetworkRow]], now
) -> None:
    """The moved figures' changes, at the next network positions, and their
    deliveries."""
    changes = []
    for figure, row in moved:
        state.network_last_position += 1
        changes.append(
            NetworkChange(
                position=state.network_last_position,
                channel_id=figure.channel_id,
                sku_id=figure.sku_id,
                sequence=figure.sequence,
                as_of=row.as_of,
                changed_at=now,
                **{name: getattr(row, name) for name in FIGURES},
            )
        )
    state.save(update_fields=["network_last_position"])
    NetworkChange.objects.bulk_create(changes)
    with connection.cursor() as cursor:
        network_deliveries_queue(
            cursor,
            changes=NetworkChange.objects.filter(pk__in=[c.pk for c in changes]),
        )


def _differs(figure: NetworkFigure, row: NetworkRow) -> bool:
    return any(
        getattr(figure, name) != getattr(row, name) for name in (*FIGURES, "as_of")
    )


def _stored_total(figure: NetworkFigure | None) -> int:
    return 0 if figure is None else figure.available_to_promise
