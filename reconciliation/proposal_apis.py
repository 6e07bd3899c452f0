"""Transfer proposals for a retailer's own tooling (``GET /api/v1/transfer-proposals/``).
The rules live in ``reconciliation.services.proposals``; this module only translates."""

from rest_framework import viewsets


class TransferProposalViewSet(viewsets.GenericViewSet):
    """Stub: built by the transfer-proposals work."""

    queryset = None
