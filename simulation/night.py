"""The night of a simulated day: tonight's cycle counts, counted blind with the
occasional slip of a counter and recounted on a variance, and how far the recorded
on-hand is from what is really on the shelves before and after them."""

from config.access import Actor
from inventory.models import StockBalance
from reconciliation.models import CountLine, CountTask
from reconciliation.services.counts import (
    count_line_decide,
    count_line_set,
    count_task_submit,
    count_tasks_generate,
)

from .demand import own_draws


class NightCounts:
    """The night's part of ``engine.TradingDay``."""

    def night_counts(self) -> None:
        """Tonight's cycle counts, counted blind with the occasional slip of a
        counter; a variance is recounted, and the manager approves what stands."""
        self.tallies.accuracy_before_counts = self.true_accuracy()
        count_tasks_generate(day=self.closes.date())
        manager = self.network.manager
        for task in CountTask.objects.order_by("pk").select_related("location"):
            staff = Actor.of_user(self.network.staff[task.location.code])
            self._count(task, staff, recount=False)
            count_task_submit(task_id=task.pk, actor=staff)
            if task.lines.filter(status=CountLine.Status.TO_RECOUNT).exists():
                self._count(task, staff, recount=True)
                count_task_submit(task_id=task.pk, actor=staff)
            for line_id in task.lines.filter(
                status=CountLine.Status.AWAITING_APPROVAL
            ).values_list("pk", flat=True):
                count_line_decide(
                    task_id=task.pk,
                    line_id=line_id,
                    approve=True,
                    actor=Actor.of_user(manager),
                )
        self.tallies.accuracy_after_counts = self.true_accuracy()

    def _count(self, task: CountTask, staff: Actor, *, recount: bool) -> None:
        wanted = CountLine.Status.TO_RECOUNT if recount else CountLine.Status.TO_COUNT
        for line in task.lines.filter(status=wanted).select_related("sku"):
            draws = own_draws(self.config.seed, f"count:{int(recount)}", line.pk)
            truth = self.floor.on_hand((line.sku.code, task.location.code))
            counted = truth
            if draws.random() < self.config.count_error_rate:
                counted = max(0, truth + draws.choice((-2, -1, 1, 1, 2)))
            count_line_set(
                task_id=task.pk,
                line_id=line.pk,
                quantity=counted,
                actor=staff,
            )
            self.tallies.counted_lines += 1

    def true_accuracy(self) -> float:
        """Share of SKU-locations whose recorded on-hand is what is really there."""
        recorded = {
            (sku, location): on_hand
            for sku, location, on_hand in StockBalance.objects.values_list(
                "sku__code", "location__code", "on_hand"
            )
        }
        keys = set(recorded) | self.floor.keys()
        right = sum(recorded.get(key, 0) == self.floor.on_hand(key) for key in keys)
        return right / len(keys) if keys else 1.0
