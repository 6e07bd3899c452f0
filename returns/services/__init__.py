"""Writes to returns, by job:

- ``receiving``: a return announced by a channel (expected, incoming where it will
  arrive), received at a counter or warehouse into quality control, or cancelled
  when an announced return never comes;
- ``grading``: inspection started, units of each line graded, the return closed;
- ``overdue``: the job that flags a return waiting too long for inspection;
- ``lines``: what may come back of a purchase, and the records a return is made of;
- ``kits``: a kit coming back as its components, off the order's kit lines;
- ``moves``: every change of status, on ``config.transitions`` (checked against
  ``Return.TRANSITIONS``, recorded as a ReturnEvent with who, when and why).

Services take ``actor: config.access.Actor``.
"""

from .grading import return_close, return_inspection_start, return_line_grade
from .lines import Customer, Purchase, ReturnLineInput
from .moves import ReturnTransitionRefused
from .overdue import returns_flag_overdue
from .receiving import (
    ReturnReferenceClash,
    return_announce,
    return_cancel,
    return_receive_at_counter,
    return_receive_expected,
)

__all__ = [
    "Customer",
    "Purchase",
    "ReturnLineInput",
    "ReturnReferenceClash",
    "ReturnTransitionRefused",
    "return_announce",
    "return_cancel",
    "return_close",
    "return_inspection_start",
    "return_line_grade",
    "return_receive_at_counter",
    "return_receive_expected",
    "returns_flag_overdue",
]
