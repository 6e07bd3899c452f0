"""The tills of a simulated day: each walk-in sale taken off the shop floor and sent
to the movements API, at once with a delay (some sent twice) or in the hourly and
nightly batches, as the policy says."""

import math
from datetime import datetime, timedelta

from django.utils import timezone

from .demand import TillVisit, own_draws

# Till batches hold at most this many events (the movements API's batch limit).
BATCH_LIMIT = 1000


class Tills:
    """The tills' part of ``engine.TradingDay``."""

    def till_visit(self, visit: TillVisit) -> None:
        draws = own_draws(self.config.seed, "till", visit.index)
        delay = self._till_delay(draws)
        duplicate = draws.random() < self.config.pos_duplicate_rate
        resend_after = timedelta(seconds=draws.expovariate(1 / 120))
        self.tallies.walk_in_units_wanted += visit.quantity
        sold = self.floor.sell_at_till((visit.sku, visit.store), visit.quantity)
        if not sold:
            return
        self.tallies.walk_in_units_sold += sold
        event = {
            "reference": f"TILL-{visit.store}-{visit.index:06d}",
            "type": "sale",
            "sku": visit.sku,
            "location": visit.store,
            "quantity": sold,
            "occurred_at": visit.at.isoformat(),
            "channel": "pos",
        }
        if self.policy.pos_sync == "realtime":
            self.at(visit.at + delay, self.send_till_events, [event])
            if duplicate:
                self.at(visit.at + delay + resend_after, self.send_till_events, [event])
        else:
            self.till_batch.append(event)
            if duplicate:
                self.till_batch.append(event)

    def _till_delay(self, draws) -> timedelta:
        median, p95 = self.config.pos_delay_median_s, self.config.pos_delay_p95_s
        sigma = max(math.log(max(p95, median) / median) / 1.645, 0.01)
        return timedelta(seconds=draws.lognormvariate(math.log(median), sigma))

    def send_till_batch(self) -> None:
        batch, self.till_batch = self.till_batch, []
        for part in batches(batch):
            self.send_till_events(part)

    def send_till_events(self, events: list[dict]) -> None:
        if not events:
            return
        now = timezone.now()
        status, body = self._post("pos", "/api/v1/movements/", events)
        if status != 200:
            raise RuntimeError(f"The tills' events were refused: {status} {body}")
        for event, row in zip(events, body["results"], strict=True):
            self.tallies.pos_events[row["status"]] += 1
            if row["status"] != "created":
                continue
            occurred = datetime.fromisoformat(event["occurred_at"])
            self.tallies.pos_lag_seconds.append((now - occurred).total_seconds())
            store = event["location"]
            if occurred < self.last_till_event.get(store, occurred):
                self.tallies.pos_events["out of order"] += 1
            self.last_till_event[store] = max(
                occurred, self.last_till_event.get(store, occurred)
            )


def batches(rows: list) -> list[list]:
    return [rows[n : n + BATCH_LIMIT] for n in range(0, len(rows), BATCH_LIMIT)]
