"""Writes of reconciliation.

- ``exceptions``: the one function every app raises into the queue with
  (``exception_raise``), settling a case whose cause went away, and people's work on
  a case.
- ``count_tasks`` and ``counts``: blind cycle counts, made nightly or by a manager,
  then counted, compared and decided (``counts`` re-exports the making).
- ``runs``: the nightly reconciliation, in steps that survive a worker's death.
- ``snapshots``: a channel's stock snapshot, received page by page.
- ``checks``: the checks that raise cases themselves (ledger drift).
- ``rates``: the nightly rate of sale per SKU and location.
- ``proposals``: transfer proposals, made nightly or by a manager, and a manager's
  approval (which requests the transfer) or rejection.

Status moves go through ``config.transitions``; every service that records who
acted takes them as ``actor: config.access.Actor``.
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
from .proposals import (
    transfer_proposal_approve,
    transfer_proposal_reject,
    transfer_proposals_generate,
)

__all__ = [
    "ExceptionTransitionRefused",
    "Raised",
    "exception_assign",
    "exception_comment",
    "exception_raise",
    "exception_resolve",
    "exception_settle",
    "transfer_proposal_approve",
    "transfer_proposal_reject",
    "transfer_proposals_generate",
]
