"""Domain errors: one base class with a machine-readable code and a human message.

Services raise these; ``config.api.exception_handler`` is the one place that maps
them to HTTP status codes. The module imports nothing from the apps, so every app
can raise them without creating an import cycle.
"""

from typing import Any


class DomainError(Exception):
    """A business rule refused the request; ``code`` is stable for clients to match on."""

    code = "domain_error"
    message = "The request was refused."

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message or self.message
        self.extra = extra
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    message = "The request conflicts with the current state."


class PermissionRefused(DomainError):
    code = "permission_denied"
    message = "You do not have permission to perform this action."


class Gone(DomainError):
    """What was asked for existed once and is no longer kept."""

    code = "gone"
    message = "No longer kept."


class TooLarge(DomainError):
    """What was sent is over a size the server takes (an import's file)."""

    code = "too_large"
    message = "Too large."


class InvalidInput(DomainError):
    """Input a service found malformed; ``field_errors`` maps field names to messages."""

    code = "invalid"
    message = "Invalid input."

    def __init__(self, field_errors: dict[str, list[str]], message: str | None = None):
        super().__init__(message, field_errors=field_errors)
        self.field_errors = field_errors
