"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

from config.serving import ensure_fit_to_serve

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
ensure_fit_to_serve()
