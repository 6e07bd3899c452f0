"""``manage.py create_api_token NAME [--channel CODE]``: prints the token on its last line."""

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from integrations.services import api_token_create


class Command(BaseCommand):
    help = "Issue an API token for an integration; the token is shown once, on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Which integration the token is for (unique).")
        parser.add_argument("--channel", help="Bind the token to this channel code.")

    def handle(self, *args, name: str, channel: str | None, **options):
        try:
            token, raw = api_token_create(name=name, channel_code=channel)
        except DomainError as error:
            raise CommandError(error.message) from error
        scope = f"channel {channel}" if channel else "any channel"
        self.stderr.write(
            f"Token {token.name!r} for {scope}; store it now, it is not kept."
        )
        self.stdout.write(raw)
