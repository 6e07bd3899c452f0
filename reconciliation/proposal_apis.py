"""Transfer proposals for a retailer's own tooling (``/api/v1/transfer-proposals/``):
the list with its filters, one proposal with its timeline, and a manager's approval
(perhaps of another quantity) or rejection. The rules live in
``reconciliation.services.proposals``; this module only translates.

Who: the ``exceptions`` scope, the retailer's own work (a token bound to a sales
channel never holds it). A signed-in store's staff member reads the proposals from or
to their stores; deciding one is a manager's (signed in with
``inventory.act_at_every_location``) or a retailer's token's, as on the screen.
"""

import django_filters
from django.db.models import Q
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.access import (
    Actor,
    Scope,
    is_store_staff_only,
    staff_locations,
)
from config.errors import PermissionRefused
from config.moments import MomentFilter
from config.replicas import ReadsFromReplica

from .proposal_models import TransferProposal
from .proposal_selectors import proposal_queryset
from .serializers import (
    TransferProposalApproveSerializer,
    TransferProposalRefusedSerializer,
    TransferProposalRejectSerializer,
    TransferProposalSerializer,
)
from .services import transfer_proposal_approve, transfer_proposal_reject


class ManagersDecide(PermissionRefused):
    code = "managers_decide"
    message = (
        "Transfer proposals are decided by a manager: ask one, or use the "
        "retailer's token."
    )


class TransferProposalFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=TransferProposal.Status.choices,
        help_text="Left out: every status.",
    )
    sku = django_filters.CharFilter(field_name="sku__code", help_text="A SKU code.")
    from_location = django_filters.CharFilter(
        field_name="from_location__code", help_text="The sending location's code."
    )
    to_location = django_filters.CharFilter(
        field_name="to_location__code", help_text="The receiving location's code."
    )
    since = MomentFilter(
        field_name="proposed_at",
        lookup_expr="gte",
        help_text="Proposed at or after (ISO 8601).",
    )

    class Meta:
        model = TransferProposal
        fields = []


DECIDED = {
    200: TransferProposalSerializer,
    400: OpenApiResponse(description="Field errors; nothing was changed."),
    403: OpenApiResponse(
        description="Not the retailer's: a store's staff member (`managers_decide`), "
        "or a token without the `exceptions` scope."
    ),
    404: OpenApiResponse(description="No such proposal."),
    409: TransferProposalRefusedSerializer,
}


@extend_schema_view(
    list=extend_schema(
        summary="Transfer proposals, newest run first",
        description="Each proposal moves units of a SKU from a location whose stock "
        "outlasts `TRANSFER_SURPLUS_DAYS` of its rate of sale to one that runs out "
        "within `TRANSFER_SHORTAGE_DAYS`, along a lane the retailer set; with the "
        "figures each side had, the units expected to be saved from running out and "
        "the cost. Approved ones name their transfer request and its status.",
    ),
    retrieve=extend_schema(summary="One transfer proposal with its timeline"),
)
class TransferProposalViewSet(
    ReadsFromReplica,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    read_scope = Scope.EXCEPTIONS
    write_scope = Scope.EXCEPTIONS
    serializer_class = TransferProposalSerializer
    filterset_class = TransferProposalFilter
    ordering_fields = ["proposed_at", "expected_units_saved", "cost", "decided_at"]

    def get_queryset(self):
        proposals = proposal_queryset().prefetch_related("events")
        if self.request.user.is_authenticated and is_store_staff_only(self.request):
            # A store's staff: the proposals their stores send or receive.
            stores = staff_locations(user=self.request.user)
            proposals = proposals.filter(
                Q(from_location__in=stores) | Q(to_location__in=stores)
            )
        return proposals

    @extend_schema(
        summary="Approve a transfer proposal (at another quantity if given)",
        description="Makes the transfer request: the units are committed at the "
        "source, beyond its walk-in units, and the sending store picks and sends "
        "them like any other transfer. 409 `insufficient_stock` (with `shortages`) "
        "when the source can no longer spare them; "
        "`transfer_proposal_transition_refused` when it was decided already or "
        "superseded by a later run. Nothing is written on a refusal; the same "
        "approval again changes nothing.",
        request=TransferProposalApproveSerializer,
        responses=DECIDED,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        proposal = self._decidable(request)
        given = TransferProposalApproveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        transfer_proposal_approve(
            proposal_id=proposal.pk,
            actor=Actor.of_request(request),
            quantity=given.validated_data.get("quantity"),
            note=given.validated_data["note"],
        )
        return self._answer(proposal.pk)

    @extend_schema(
        summary="Reject a transfer proposal",
        description="Nothing moves. 409 `transfer_proposal_transition_refused` when "
        "it was approved already or superseded; rejecting it again changes nothing.",
        request=TransferProposalRejectSerializer,
        responses=DECIDED,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        proposal = self._decidable(request)
        given = TransferProposalRejectSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        transfer_proposal_reject(
            proposal_id=proposal.pk,
            actor=Actor.of_request(request),
            reason=given.validated_data["reason"],
        )
        return self._answer(proposal.pk)

    def _decidable(self, request: Request) -> TransferProposal:
        proposal = self.get_object()  # 404 for what the caller may not see
        if is_store_staff_only(request):
            raise ManagersDecide()
        return proposal

    def _answer(self, pk: int) -> Response:
        return Response(TransferProposalSerializer(self.get_queryset().get(pk=pk)).data)
