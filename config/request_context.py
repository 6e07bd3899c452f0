"""The id of the request being answered, for every log line of it and for the
Celery tasks it queues (``config.task_context``). Kept apart from the middleware
(``config.middleware.RequestId`` sets it) so logging can be configured, and Celery
set up, before Django's apps are loaded."""

import logging
from contextvars import ContextVar

from django.core.signals import request_finished

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id() -> str | None:
    """The id of the request being answered (None outside one)."""
    return _request_id.get()


def request_id_set(ident: str | None) -> None:
    """Answer as ``ident``'s: the request's, or the request a task was queued by."""
    _request_id.set(ident)


def _forget_request_id(**kwargs) -> None:
    # After the response is sent, not when the middleware returns: Django logs a
    # 4xx or 5xx ("Bad Request: /api/...") after the middleware, and that line
    # carries the id too.
    _request_id.set(None)


request_finished.connect(_forget_request_id)


class RequestIdLogFilter(logging.Filter):
    """``%(request_id)s`` on every log record: the request's, or None."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True
