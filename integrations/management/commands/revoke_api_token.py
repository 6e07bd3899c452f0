"""``manage.py revoke_api_token NAME``: the token stops working at once."""

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from integrations.services import api_token_revoke


class Command(BaseCommand):
    help = "Revoke an API token by name."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name: str, **options):
        try:
            api_token_revoke(name=name)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Revoked token {name!r}.")
