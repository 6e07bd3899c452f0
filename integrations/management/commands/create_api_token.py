"""``manage.py create_api_token NAME [--channel CODE] [--scopes A,B]``: prints the
token on its last line."""

from django.core.management.base import BaseCommand, CommandError

from config.access import Scope
from config.errors import DomainError
from integrations.services import api_token_create


class Command(BaseCommand):
    help = "Issue an API token for an integration; the token is shown once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Which integration the token is for (unique).")
        parser.add_argument("--channel", help="Bind the token to this channel code.")
        parser.add_argument(
            "--scopes",
            help=(
                "Comma-separated scopes, of: " + ", ".join(Scope) + ". Default: all "
                "but manage_allocations (a channel's token: also not "
                "write_master_data or exceptions)."
            ),
        )

    def handle(self, *args, name: str, channel: str | None, **options):
        given = options.get("scopes")
        scopes = None
        if given is not None:
            scopes = [part.strip() for part in given.split(",") if part.strip()]
        try:
            token, raw = api_token_create(
                name=name, channel_code=channel, scopes=scopes
            )
        except DomainError as error:
            raise CommandError(error.message) from error
        acts_for = f"channel {channel}" if channel else "any channel"
        self.stderr.write(
            f"Token {token.name!r} for {acts_for}, scopes {token.scope_labels}; "
            "store it now, it is not kept."
        )
        self.stdout.write(raw)
