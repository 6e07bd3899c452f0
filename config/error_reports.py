"""Errors reported to Sentry, when ``SENTRY_DSN`` is set (off by default): every
unhandled exception of a request or a Celery task, tagged with the request's id,
so the event and the log lines of one request find each other. No personal data
is sent (Sentry's default: no cookies, bodies, users or addresses) and no
performance tracing: metrics are
Prometheus's (``config.metrics``).

Started from the settings, before Django loads, as Sentry's Django integration
asks; any Sentry-compatible server (self-hosted Sentry, GlitchTip) takes the DSN."""

from typing import Any

from .request_context import request_id


def error_reports_start(*, dsn: str, environment: str, transport: Any = None) -> bool:
    """Report errors to ``dsn``; whether it was started (not without one).
    ``transport`` replaces the HTTP sender (the tests' fake)."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import ignore_logger

    # A failed task's own log line (config.task_context) is not a second event:
    # Sentry's Celery integration reports the exception itself.
    ignore_logger("onestock.task")

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        traces_sample_rate=0,
        before_send=_tagged_with_request_id,
        transport=transport,
    )
    return True


def _tagged_with_request_id(event: dict, hint: dict) -> dict:
    ident = request_id()
    if ident is not None:
        event.setdefault("tags", {})["request_id"] = ident
    return event
