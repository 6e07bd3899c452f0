"""``manage.py after_restore``: run once after a point-in-time restore of the
database, before traffic comes back (docs/deployment.md, backups). The channels have
been sent changes the restored database forgot: the feed's positions jump past any
given (old cursors are answered 410: read availability whole, follow from
``latest_cursor``), and every balance's sequence jumps past any sent, each balance
announced again, so no receiver drops a change as old."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from inventory.services import balance_sequences_skip
from sync.services import changes_place, feed_skip_after_restore


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument(
            "--positions",
            type=int,
            default=1_000_000_000,
            help="How far the feed's positions jump: more than the changes it may "
            "have given after the restore point (default a billion).",
        )
        parser.add_argument(
            "--sequences",
            type=int,
            default=1_000_000,
            help="How far each balance's sequence jumps: more than the changes of "
            "one SKU at one location after the restore point (default a million).",
        )

    def handle(self, *args, positions: int, sequences: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("A point-in-time restore is PostgreSQL's.")
        if positions < 1 or sequences < 1:
            raise CommandError("--positions and --sequences: at least 1.")
        feed = feed_skip_after_restore(by=positions)
        self.stdout.write(
            f"The feed continues after {feed.last_position}; earlier cursors read "
            "410 and start again from the whole availability."
        )
        moved = balance_sequences_skip(by=sequences)
        placed = 0
        while step := changes_place().changes:
            placed += step
        self.stdout.write(
            f"{moved:,} balances announced again with sequences {sequences:,} "
            f"higher; {placed:,} changes placed in the feed for the channels."
        )
