"""The sources' health, measured by inventory, turned into the managers' cases: a
watched source silent longer than its expected interval opens (or updates) a
``sync_delayed`` case, which settles itself once the source is heard from again."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config.access import Actor
from inventory.models import SourceHealth
from inventory.services import source_health_measure
from reconciliation.models import ExceptionKind
from reconciliation.services import Raised, exception_raise, exception_settle


@transaction.atomic
def sync_health_check(*, now: datetime | None = None) -> list[SourceHealth]:
    now = now or timezone.now()
    measured = source_health_measure(now=now)
    for health in measured:
        key = f"sync:{health.channel.code}"
        if not health.delayed:
            exception_settle(key=key, note="The source is sending events again.")
            continue
        minutes = round((now - health.last_event_at).total_seconds() / 60)
        silence = f"No event for {minutes} min"
        exception_raise(
            raised=Raised(
                kind=ExceptionKind.SYNC_DELAYED,
                key=key,
                title=f"{health.channel.code}: {silence.lower()} (expected every "
                f"{health.expected_interval_seconds // 60} min)",
                detail=f"{silence} from {health.channel.name}. Availability at the "
                "locations it reports reads 'delayed' until it is heard from: check "
                "its connection, or its expected interval on the sync health page.",
                link="/store/sync/",
                facts={
                    "channel": health.channel.code,
                    "last_event_at": health.last_event_at.isoformat(),
                    "expected_interval_seconds": health.expected_interval_seconds,
                },
            ),
            actor=Actor.system("sync"),
        )
    return measured
