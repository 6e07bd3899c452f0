"""API tokens, and the Idempotency-Keys callers sent with their POSTs. Only a SHA-256
digest of each token is stored: a copy of the database does not let anyone call the
API. The first characters are kept to tell tokens apart."""

import hashlib

from django.db import models
from django.utils import timezone

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


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` a caller sent with a POST, and the first answer to it
    (integrations/idempotency.py). While the first request runs, ``in_flight_until``
    says until when it is taken to be running; once answered, it is null and the
    answer is kept for ``IDEMPOTENCY_KEY_HOURS``."""

    # What makes a key unique: a digest, because a path (and a key) may be longer
    # than a btree index entry can hold.
    scope_digest = models.CharField(
        max_length=64,
        unique=True,
        help_text="SHA-256 of caller, method, path and key: the key's scope.",
    )
    caller = models.CharField(
        max_length=80,
        help_text="Who sent it: token:<the token's digest>, or user:<id> for staff.",
    )
    method = models.CharField(max_length=10)
    path = models.TextField()
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the request body."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    in_flight_until = models.DateTimeField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(default=b"", blank=True)
    body_kept = models.BooleanField(
        default=True,
        help_text="False for an answer that carried a secret: it is not kept, and "
        "the key is not replayed (docs/api.md).",
    )

    class Meta:
        verbose_name = "idempotency key"

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.key!r}"
