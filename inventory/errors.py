"""Refusals of the stock ledger, mapped to HTTP statuses by ``config.api``."""

from config.errors import Conflict


class ReferenceClash(Conflict):
    """The source already sent a different movement under this reference."""

    code = "reference_clash"
    message = "This reference was already used for a different movement."


class MovementRejected(Conflict):
    """Recorded in the ledger as rejected: it would have moved units that are not there."""

    code = "movement_rejected"
    message = "The movement was recorded as rejected."


class InsufficientStock(Conflict):
    """A promise (reservation, commitment) larger than what is available."""

    code = "insufficient_stock"
    message = "Not enough stock is available."


class KitHoldsStock(Conflict):
    """A SKU with stock, or held or ordered somewhere, cannot become a kit: a kit
    holds no stock of its own."""

    code = "kit_holds_stock"
