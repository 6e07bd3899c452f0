"""Pickup's API: a customer's order moved to another pickup store
(``POST /api/v1/orders/{id}/change-pickup-location/``). The rules live in
``pickup.services``; this module only translates."""

from rest_framework.views import APIView


class ChangePickupLocationView(APIView):
    """Stub: built by the change-pickup-location work."""
