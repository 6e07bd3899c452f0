"""The online shoppers of a simulated day, through the channels' APIs: a hold at the
cart or a look at availability, then an order (or an abandoned cart, a hold that
lapsed, a refusal), sometimes cancelled by the customer before it is picked; every
refusal tallied with whether the units were there after all."""

from datetime import timedelta

from django.utils import timezone

from inventory.models import StockBalance
from orders.models import Order

from .demand import OnlineShopper, own_draws
from .network import WAREHOUSE
from .outcome import Refusal


class OnlineShoppers:
    """The online shoppers' part of ``engine.TradingDay``."""

    def shopper_arrives(self, shopper: OnlineShopper) -> None:
        self.tallies.shoppers[shopper.channel] += 1
        decides_at = shopper.at + timedelta(minutes=shopper.cart_minutes)
        if shopper.channel == "marketplace":
            # A marketplace sends the order once its customer has paid.
            self.at(decides_at, self.shopper_decides, shopper, None)
            return
        location = shopper.store or WAREHOUSE
        if self.policy.reserve_at == "cart":
            status, body = self._post(
                shopper.channel,
                "/api/v1/reservations/",
                {
                    "reference": f"CART-{shopper.index:06d}",
                    "lines": [self._line(shopper, held=True)],
                },
            )
            if status == 201:
                self.at(decides_at, self.shopper_decides, shopper, body["id"])
            else:
                self._refused(shopper, "cart", status, body)
            return
        status, body = self._get(
            shopper.channel,
            "/api/v1/availability/",
            {"sku": shopper.sku, "location": location, "channel": shopper.channel},
        )
        rows = body.get("results", [])
        if rows and rows[0]["available_to_promise"] >= shopper.quantity:
            self.at(decides_at, self.shopper_decides, shopper, None)
        else:
            self._refused(shopper, "browse", 409, {"code": "insufficient_stock"})

    def shopper_decides(self, shopper: OnlineShopper, reservation_id: int | None):
        draws = own_draws(self.config.seed, "shopper", shopper.index)
        lets_it_lapse = draws.random() < 0.5
        if shopper.abandons and shopper.channel != "marketplace":
            self.tallies.shoppers["abandoned their cart"] += 1
            if reservation_id is not None and not lets_it_lapse:
                self._post(
                    shopper.channel,
                    f"/api/v1/reservations/{reservation_id}/release/",
                    {},
                )
            return
        body = self._order_body(shopper)
        if reservation_id is not None:
            status, answer = self._post(
                shopper.channel,
                "/api/v1/orders/",
                {**body, "reservation": reservation_id},
            )
            if status == 409 and answer.get("code") == "reservation_transition_refused":
                # The hold lapsed while they dithered: the shop tries afresh.
                self.tallies.shoppers["hold lapsed before paying"] += 1
                reservation_id = None
        if reservation_id is None:
            status, answer = self._post(
                shopper.channel,
                "/api/v1/orders/",
                {**body, "lines": [self._line(shopper, held=False)]},
            )
        if status == 201:
            if draws.random() < self.config.customer_cancel_rate:
                later = timezone.now() + timedelta(minutes=draws.uniform(5, 60))
                self.at(later, self.customer_cancels, shopper, answer["id"])
            return
        stage = "order" if shopper.channel == "marketplace" else "checkout"
        self._refused(shopper, stage, status, answer)

    def customer_cancels(self, shopper: OnlineShopper, order_id: int) -> None:
        """Only while nothing is picked: after that the store says it is too late."""
        if Order.objects.get(pk=order_id).status != Order.Status.ALLOCATED:
            self.tallies.shoppers["cancelled too late"] += 1
            return
        status, answer = self._post(
            shopper.channel,
            f"/api/v1/orders/{order_id}/cancel/",
            {"reason": "The customer changed their mind."},
        )
        if status != 200:
            raise RuntimeError(f"Cancelling order {order_id}: {status} {answer}")
        self.tallies.customer_cancelled_units += shopper.quantity

    def _line(self, shopper: OnlineShopper, *, held: bool) -> dict:
        """A cart line: a hold names where the units are kept (the pickup store, or
        the warehouse for delivery); a pickup order's lines take the order's store;
        the marketplace's are routed."""
        line = {"sku": shopper.sku, "quantity": shopper.quantity}
        if held:
            line["location"] = shopper.store or WAREHOUSE
        elif shopper.method != "pickup" and shopper.channel != "marketplace":
            line["location"] = WAREHOUSE
        return line

    def _order_body(self, shopper: OnlineShopper) -> dict:
        body = {
            "reference": f"{shopper.channel.upper()}-{shopper.index:06d}",
            "fulfilment_method": shopper.method,
            "customer": {
                "name": f"Shopper {shopper.index}",
                "email": f"shopper{shopper.index}@example.com",
            },
        }
        if shopper.method == "pickup":
            body["pickup_location"] = shopper.store
        else:
            body["delivery_address"] = {
                "address": f"{shopper.index} High Street",
                "city": "Coventry",
                "postal_code": "CV1 1AA",
                "country": "GB",
                "latitude": 52.4068,
                "longitude": -1.5197,
            }
        return body

    def _refused(self, shopper: OnlineShopper, stage: str, status: int, body) -> None:
        if status != 409 or body.get("code") != "insufficient_stock":
            raise RuntimeError(f"Shopper {shopper.index} met {status}: {body}")
        if shopper.store:
            places = [shopper.store]
        elif shopper.channel == "marketplace":
            places = [loc.code for loc in self._shipping_locations()]
        else:
            places = [WAREHOUSE]
        by_buffer = there = False
        for place in places:
            balance = StockBalance.objects.filter(
                sku=self.skus[shopper.sku], location=self.locations[place]
            ).first()
            if balance is None:
                continue
            promised = balance.committed + balance.reserved
            available = (
                balance.on_hand
                - promised
                - balance.picked
                - balance.damaged
                - balance.quality_control
            )
            by_buffer |= available >= shopper.quantity
            there |= (
                self.floor.shelf[(shopper.sku, place)] - promised >= shopper.quantity
            )
        self.tallies.refusals.append(
            Refusal(
                stage=stage,
                channel=shopper.channel,
                location=shopper.store,
                units=shopper.quantity,
                by_buffer=by_buffer,
                physically_there=there,
            )
        )
