"""Every factory of the test suite, in one place."""

from datetime import datetime

import factory
from django.utils import timezone

from catalog.models import Channel, Product, Sku
from config.access import Actor
from integrations.models import ApiToken
from integrations.services import api_token_create
from inventory.models import (
    Location,
    MovementType,
    Reservation,
    StockBalance,
    Supply,
)
from inventory.services import (
    MovementInput,
    MovementOutcome,
    ReservationLineInput,
    movements_record,
    reservation_place,
)
from orders import services as orders
from pickup import services as pickup

# Who the stock events and checkout holds below are recorded as sent by.
AN_INTEGRATION = Actor(name="token:test")
A_CHECKOUT = Actor(name="token:checkout")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"PRD-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Article {n}")
    product = factory.SubFactory(ProductFactory)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"channel-{n}")
    name = factory.Sequence(lambda n: f"Channel {n}")
    kind = Channel.Kind.WEB


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"STORE-{n:03d}")
    name = factory.Sequence(lambda n: f"Store {n}")
    kind = Location.Kind.STORE
    time_zone = "Europe/London"


class ApiTokenFactory:
    """Tokens go through the service, because only it knows how to hash them."""

    @staticmethod
    def issue(
        *, name: str, channel_code: str | None = None, scopes: list[str] | None = None
    ) -> tuple[ApiToken, str]:
        return api_token_create(name=name, channel_code=channel_code, scopes=scopes)


class StockEvents:
    """Posts stock events through the ledger service, as an integration would, with
    sensible defaults: a fresh reference, now as occurred-at, the ERP channel."""

    _counter = 0

    @classmethod
    def post(
        cls,
        type: str,
        *,
        sku: Sku,
        location: Location,
        quantity: int,
        channel: Channel | None = None,
        occurred_at: datetime | None = None,
        reference: str | None = None,
        reason: str = "",
        other_location: Location | None = None,
        expected_at: datetime | None = None,
        supply_reference: str = "",
        actor: Actor = AN_INTEGRATION,
    ) -> MovementOutcome:
        cls._counter += 1
        event = MovementInput(
            reference=reference or f"EVT-{cls._counter:06d}",
            type=type,
            sku=sku,
            location=location,
            quantity=quantity,
            occurred_at=occurred_at or timezone.now(),
            channel=channel or ChannelFactory(code="erp", name="ERP", kind="web"),
            reason=reason,
            other_location=other_location,
            expected_at=expected_at,
            supply_reference=supply_reference,
        )
        return movements_record(movements=[event], actor=actor)[0]


def purchase_order(
    sku: Sku,
    location: Location,
    quantity: int,
    *,
    due: datetime,
    reference: str = "PO-1",
) -> Supply:
    """A purchase order's units announced as due at ``location`` on ``due`` (an
    expected receipt through the ledger, as the ERP sends it): its Supply."""
    outcome = StockEvents.post(
        "receipt_expected",
        sku=sku,
        location=location,
        quantity=quantity,
        expected_at=due,
        supply_reference=reference,
    )
    return Supply.objects.get(movement=outcome.movement)


def balance_of(sku: Sku, location: Location) -> StockBalance:
    return StockBalance.objects.get(sku=sku, location=location)


class Holds:
    """Places checkout holds through the reservation service, with a fresh cart
    reference unless one is given."""

    _counter = 0

    @classmethod
    def place(
        cls,
        *,
        channel: Channel,
        lines: list[tuple[Sku, Location, int]],
        reference: str | None = None,
        ttl_seconds: int | None = None,
        actor: Actor = A_CHECKOUT,
    ) -> Reservation:
        cls._counter += 1
        reservation, _ = reservation_place(
            channel=channel,
            reference=reference or f"CART-{cls._counter:06d}",
            lines=[
                ReservationLineInput(sku, location, qty) for sku, location, qty in lines
            ],
            actor=actor,
            ttl_seconds=ttl_seconds,
        )
        return reservation


class StaffFactory:
    """Members of staff as the back-office creates them: a user with a password, the
    stores they work at, or the manager's permission to act at every location."""

    PASSWORD = "pick-and-collect"

    @staticmethod
    def at(*locations: Location, username: str, first_name: str = "", manager=False):
        from django.contrib.auth.models import Permission, User

        from inventory.models import StaffMembership

        user = User.objects.create_user(
            username=username,
            password=StaffFactory.PASSWORD,
            first_name=first_name or username.title(),
        )
        for location in locations:
            StaffMembership.objects.create(user=user, location=location)
        if manager:
            user.user_permissions.add(
                Permission.objects.get(codename="act_at_every_location")
            )
        return user


def kit(code: str, *parts: tuple[Sku, int], name: str = "") -> Sku:
    """A kit made of ``parts`` ((component, units per kit), …), as the catalogue's
    ``PUT /api/v1/skus/{code}/`` makes it."""
    from catalog.services import sku_upsert

    made, _ = sku_upsert(code=code, name=name or f"Kit {code}", components=list(parts))
    return made


def stock(sku, location, quantity):
    StockEvents.post(
        MovementType.RECEIPT, sku=sku, location=location, quantity=quantity
    )


def pickup_order(shop, reference="WEB-2001", lines=None, store=None, **customer):
    """A click-and-collect order from the web shop, as the order API places it."""
    store = store or shop["oxford"]
    order, _ = orders.order_place(
        channel=shop["web"],
        reference=reference,
        method="pickup",
        customer=orders.Customer(
            name=customer.get("name", "Ada Byron"),
            email=customer.get("email", "ada@example.com"),
        ),
        actor=Actor(name="token:web-shop", source="web"),
        lines=[
            orders.OrderLineInput(sku=sku, quantity=quantity)
            for sku, quantity in (lines or [(shop["tee"], 1)])
        ],
        pickup_location=store,
    )
    return order


def delivered_order(shop, reference="WEB-3001", lines=None, source=None, **customer):
    """A web-shop order shipped to the customer's door from ``source`` (Camden by
    default): the goods are with the customer and may come back."""
    source = source or shop["camden"]
    lines = lines or [(shop["tee"], 1)]
    for sku, quantity in lines:
        stock(sku, source, quantity)
    actor = Actor(name="token:web-shop", source="web")
    order, _ = orders.order_place(
        channel=shop["web"],
        reference=reference,
        method="ship",
        customer=orders.Customer(
            name=customer.get("name", "Ada Byron"),
            email=customer.get("email", "ada@example.com"),
        ),
        actor=actor,
        lines=[
            orders.OrderLineInput(sku=sku, quantity=quantity, location=source)
            for sku, quantity in lines
        ],
    )
    return orders.order_ship(order_id=order.pk, lines=None, actor=actor)


def ready_for_collection(shop, task):
    """Alice picks every line of a pickup task and puts it on the hold shelf."""
    alice = Actor.of_user(shop["alice"])
    pickup.pickup_task_claim(task_id=task.pk, actor=alice)
    pickup.pickup_task_start(task_id=task.pk, actor=alice)
    for line in task.order.lines.all():
        pickup.pickup_line_pick(task_id=task.pk, line_id=line.pk, actor=alice)
    pickup.pickup_task_mark_ready(task_id=task.pk, actor=alice)
    task.refresh_from_db()


def reported_short(shop, task, condition="not_found"):
    """Alice starts picking and reports one tee she cannot take."""
    alice = Actor.of_user(shop["alice"])
    pickup.pickup_task_claim(task_id=task.pk, actor=alice)
    pickup.pickup_task_start(task_id=task.pk, actor=alice)
    line = task.order.lines.get(sku=shop["tee"])
    return pickup.pickup_line_short(
        task_id=task.pk, line_id=line.pk, actor=alice, quantity=1, condition=condition
    )
