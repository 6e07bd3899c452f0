"""Messages to the customer about their pickup, through Django's email backend.

Each notice is recorded in the same transaction as the step that causes it, and
sent only once that transaction commits: a step that is rolled back never emails.
A failed delivery is kept on the notice (``failure``) for staff to see."""

import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import PickupNotice, PickupTask

log = logging.getLogger(__name__)

SUBJECTS = {
    PickupNotice.Kind.READY: "Your order {reference} is ready to collect",
    PickupNotice.Kind.REMINDER: "Your order {reference} is waiting for you",
    PickupNotice.Kind.EXPIRED: "Your order {reference} was not collected",
    PickupNotice.Kind.UNITS_CANCELLED: "Some items of order {reference} are cancelled",
    PickupNotice.Kind.SUBSTITUTE: "A substitute for order {reference}",
    PickupNotice.Kind.SHIP_LATER: "Some items of order {reference} will be delivered",
    PickupNotice.Kind.LOCATION_CHANGED: "Order {reference} now waits at another store",
}


def notice_customer(
    *, task: PickupTask, kind: str, context: dict | None = None
) -> PickupNotice | None:
    """Record the message and send it after commit; None when the order has no
    email address (staff see that on the task)."""
    order = task.order
    if not order.customer_email:
        return None
    # Times in the message are the store's, where the customer will be.
    with timezone.override(ZoneInfo(task.location.time_zone or "UTC")):
        body = render_to_string(
            f"pickup/email/{kind}.txt",
            {
                "task": task,
                "order": order,
                "location": task.location,
                **(context or {}),
            },
        )
    notice = PickupNotice.objects.create(
        task=task,
        kind=kind,
        to=order.customer_email,
        subject=SUBJECTS[kind].format(reference=order.reference),
        body=body,
        created_at=timezone.now(),
    )
    transaction.on_commit(lambda: _deliver(notice.pk))
    return notice


def _deliver(notice_id: int) -> None:
    notice = PickupNotice.objects.get(pk=notice_id)
    try:
        send_mail(
            notice.subject,
            notice.body,
            settings.DEFAULT_FROM_EMAIL,
            [notice.to],
            fail_silently=False,
        )
    except Exception as failure:  # any backend error is kept, never raised
        log.warning("Pickup notice %s not delivered: %s", notice_id, failure)
        notice.failure = str(failure)[:300]
        notice.save(update_fields=["failure"])
        return
    notice.sent_at = timezone.now()
    notice.save(update_fields=["sent_at"])
