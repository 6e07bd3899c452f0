"""The demo's store team and its pickup queue: a picker at Oxford Street, one in
Manchester, a manager over every store, and click-and-collect orders at Oxford
Street in several states, each placed through the order and pickup services."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from catalog.selectors import channels_by_code
from config.access import Actor
from inventory.models import StaffMembership
from inventory.selectors import (
    availability_rows_for_balances,
    balance_queryset,
    locations_by_code,
)
from orders import services as orders
from orders.models import Order
from pickup import services as pickup

from .network import WEB_SHOP

# (username, first name, last name, store or None for a manager)
STAFF = [
    ("sam", "Sam", "Patel", "LON-OXF"),
    ("jo", "Jo", "Walsh", "MAN-MKT"),
    ("morgan", "Morgan", "Reid", None),
]

# (reference, customer, how far the store has got with it)
PICKUPS = [
    ("DEMO-PICKUP-1", "Ada Byron", "new"),
    ("DEMO-PICKUP-2", "Grace Hopper", "new"),
    ("DEMO-PICKUP-3", "Alan Turing", "picking"),
    ("DEMO-PICKUP-4", "Mary Somerville", "ready"),
]


def demo_staff_build(*, password: str) -> list[str]:
    """Staff users with their stores (updated, never duplicated)."""
    users = get_user_model()
    stores = locations_by_code(codes={row[3] for row in STAFF if row[3]})
    every_location = Permission.objects.get(codename="act_at_every_location")
    for username, first, last, store in STAFF:
        user = users.objects.filter(username=username).first() or users(
            username=username
        )
        user.first_name, user.last_name, user.is_active = first, last, True
        user.set_password(password)
        user.save()
        if store:
            StaffMembership.objects.get_or_create(user=user, location=stores[store])
        else:
            user.user_permissions.add(every_location)
    return [row[0] for row in STAFF]


def demo_pickups_build() -> int:
    """Pickup orders at Oxford Street; each placed once. Returns how many are new."""
    web = channels_by_code(codes={"web"})["web"]
    store = locations_by_code(codes={"LON-OXF"})["LON-OXF"]
    sam = Actor.of_user(get_user_model().objects.get(username="sam"))
    rows = availability_rows_for_balances(
        balances=list(balance_queryset(locations=[store])), channel=web
    )
    spare = [row.sku for row in rows if row.available_to_promise >= 3]
    placed = 0
    for n, (reference, name, stage) in enumerate(PICKUPS):
        if Order.objects.filter(channel=web, reference=reference).exists():
            continue
        first, last = name.split()
        order, _ = orders.order_place(
            channel=web,
            reference=reference,
            method="pickup",
            customer=orders.Customer(
                name=name, email=f"{first.lower()}.{last.lower()}@example.com"
            ),
            actor=WEB_SHOP,
            lines=[
                orders.OrderLineInput(sku=sku, quantity=1)
                for sku in spare[n * 2 : n * 2 + 2]
            ],
            pickup_location=store,
        )
        task = order.pickup_task
        if stage in ("picking", "ready"):
            pickup.pickup_task_claim(task_id=task.pk, actor=sam)
            pickup.pickup_task_start(task_id=task.pk, actor=sam)
        if stage == "ready":
            for line in order.lines.all():
                pickup.pickup_line_pick(task_id=task.pk, line_id=line.pk, actor=sam)
            pickup.pickup_task_mark_ready(task_id=task.pk, actor=sam, hold_slot="A1")
        placed += 1
    return placed
