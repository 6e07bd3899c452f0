"""``manage.py expire_reservations``: what the every-minute beat job does, by hand."""

from django.core.management.base import BaseCommand

from inventory.services import reservations_expire


class Command(BaseCommand):
    help = (
        "Write the release of every reservation past its expiry (idempotent). "
        "Availability already ignores such holds; this puts the ledger in step."
    )

    def handle(self, *args, **options) -> None:
        expired = reservations_expire()
        self.stdout.write(f"Expired {expired} reservation(s).")
