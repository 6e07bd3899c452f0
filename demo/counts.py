"""The demo's counts and accuracy: two weeks of cycle counts at Oxford Street and
Manchester (a few variances among them, approved by the manager), so the accuracy page
has a history to chart; today a count for sam to do and one variance waiting for
morgan; and tonight's generated counts. Through the counting services, once; only the
history's dates are moved back, since a demo cannot wait two weeks."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from config.access import Actor
from inventory.models import StockBalance
from inventory.selectors import locations_by_code
from reconciliation.models import CountLine, CountTask, CountTaskEvent
from reconciliation.services.counts import (
    count_line_decide,
    count_line_set,
    count_task_start,
    count_task_submit,
    count_tasks_generate,
)

HISTORY_DAYS = 14
SKUS_PER_COUNT = 6
DEMO_NOTE = "Demo"


def demo_counts_build() -> int:
    """Returns how many counts are new."""
    if CountTask.objects.filter(note__startswith=DEMO_NOTE).exists():
        return 0
    users = get_user_model().objects
    morgan, sam = (
        Actor.of_user(users.get(username=name)) for name in ("morgan", "sam")
    )
    places = locations_by_code(codes={"LON-OXF", "MAN-MKT"})
    made = 0
    for days_ago in range(HISTORY_DAYS, 0, -1):
        for n, location in enumerate(places.values()):
            # Every third day a store miscounts one SKU for real: a variance.
            wrong = 1 if (days_ago + n) % 3 == 0 else 0
            task = _count(location, morgan, morgan, days_ago, wrong, approve=True)
            _back_date(task, days_ago)
            made += 1
    store = places["LON-OXF"]
    _count(store, morgan, sam, 0, wrong=1, approve=None)  # waits for morgan
    _start(store, morgan, offset=SKUS_PER_COUNT, note=f"{DEMO_NOTE}: shelf check")
    return made + 2 + count_tasks_generate()


def _start(location, manager: Actor, offset: int, note: str) -> CountTask:
    held = (
        StockBalance.objects.filter(location=location, on_hand__gt=0)
        .select_related("sku")
        .order_by("sku__code")
    )
    codes = [b.sku.code for b in held[offset : offset + SKUS_PER_COUNT]]
    return count_task_start(
        location=location, sku_codes=codes, note=note, actor=manager
    )


def _count(location, manager: Actor, counter: Actor, days_ago, wrong, approve):
    task = _start(
        location,
        manager,
        offset=(days_ago * 2) % 20,
        note=f"{DEMO_NOTE}: {days_ago} day(s) ago" if days_ago else f"{DEMO_NOTE}",
    )
    on_hand = dict(
        StockBalance.objects.filter(location=location).values_list("sku_id", "on_hand")
    )
    first = task.lines.order_by("pk").first()
    for _ in range(2):
        waiting = task.lines.filter(
            status__in=(CountLine.Status.TO_COUNT, CountLine.Status.TO_RECOUNT)
        )
        for line in waiting:
            off = 2 if wrong and line.pk == first.pk else 0
            count_line_set(
                task_id=task.pk,
                line_id=line.pk,
                quantity=max(on_hand.get(line.sku_id, 0) - off, 0),
                actor=counter,
            )
        task = count_task_submit(task_id=task.pk, actor=counter)
        if task.status != CountTask.Status.RECOUNT:
            break
    if approve:
        for line in task.lines.filter(status=CountLine.Status.AWAITING_APPROVAL):
            count_line_decide(
                task_id=task.pk, line_id=line.pk, approve=True, actor=manager
            )
    return task


def _back_date(task: CountTask, days_ago: int) -> None:
    then = timezone.now() - timedelta(days=days_ago)
    CountTask.objects.filter(pk=task.pk).update(
        for_date=timezone.localdate(then), created_at=then, closed_at=then
    )
    CountLine.objects.filter(task=task).update(result_at=then, counted_at=then)
    CountTaskEvent.objects.filter(task=task).update(at=then)
