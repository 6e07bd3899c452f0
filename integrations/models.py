"""API tokens. Only a SHA-256 digest of each token is stored: a copy of the database
does not let anyone call the API. The first characters are kept to tell tokens apart."""

import hashlib

from django.db import models

from catalog.models import Channel
from config.access import Scope


def token_digest(raw_token: str) -> str:
    # The tokens carry 256 random bits, so a plain (unsalted) digest is safe to store.
    return hashlib.sha256(raw_token.encode()).hexdigest()


class ApiToken(models.Model):
    name = models.CharField(max_length=100, help_text="Which integration.")
    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_tokens",
        help_text="If set, the token may act only as this channel.",
    )
    scopes = models.JSONField(
        default=list,
        editable=False,
        help_text="What kinds of call the token may make (docs/security.md).",
    )
    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"
        constraints = [
            # A name identifies one live integration; revoked tokens keep theirs as history.
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(revoked_at__isnull=True),
                name="api_token_live_name_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def scope_labels(self) -> str:
        return ", ".join(scope for scope in Scope if scope in self.scopes)

    @property
    def bound_channel_code(self) -> str | None:
        return self.channel.code if self.channel_id else None


class Integration:
    """The caller behind a valid token, standing where DRF expects ``request.user``."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.username = f"token:{token.name}"

    def __str__(self) -> str:
        return self.username
