"""The guard the WSGI and ASGI entry points run before serving a request."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def ensure_fit_to_serve() -> None:
    if not settings.DEBUG and not settings.SECRET_KEY_FROM_ENV:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off."
        )
