"""``manage.py rebuild_balances``: recompute every stock balance from the ledger."""

from django.core.management.base import BaseCommand, CommandError

from inventory.services import balances_rebuild


class Command(BaseCommand):
    help = (
        "Recompute every stock balance from the ledger, repair those that differ and "
        "report each difference. Exits with status 1 if any were found."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only report the differences; change nothing.",
        )

    def handle(self, *args, check: bool = False, **options):
        differences = balances_rebuild(repair=not check)
        for found in differences:
            self.stdout.write(
                f"{found.sku_code} at {found.location_code}: {found.field} was "
                f"{found.stored}, the ledger says {found.from_ledger}"
            )
        if not differences:
            self.stdout.write("Every balance agrees with the ledger.")
            return
        verb = "found" if check else "found and repaired"
        raise CommandError(f"{len(differences)} difference(s) {verb}.", returncode=1)
