"""Writes of reconciliation.

- ``exceptions``: the one function every app raises into the queue with
  (``exception_raise``), settling a case whose cause went away, and people's work on
  a case.
- ``counts``: blind cycle counts, from generation to a manager's approval.
- ``checks``: the checks that raise cases themselves (ledger drift).
"""

from .exceptions import (
    ExceptionTransitionRefused,
    Raised,
    exception_assign,
    exception_comment,
    exception_raise,
    exception_resolve,
    exception_settle,
)

__all__ = [
    "ExceptionTransitionRefused",
    "Raised",
    "exception_assign",
    "exception_comment",
    "exception_raise",
    "exception_resolve",
    "exception_settle",
]
