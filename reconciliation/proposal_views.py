"""The transfer proposals screen, /store/transfers/ (managers, like the exception
queue's whole network): the proposals waiting for a decision, with the figures each
side had, the units they save and what they cost; per row, approve (the quantity
field holds the proposed units: change it to approve another number) or reject with
a reason; a button that proposes transfers now; and the proposals decided lately
with where their transfer stands (the sending store works it on its pickup queue).
Plain forms, each answered by a redirect and a message (a refusal is shown beside
its row, its field marked). Thin: each action calls one service."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from config import access
from config.access import Actor
from config.errors import DomainError, InvalidInput, NotFound
from config.screens import readable, render, staff_screen, whole_number
from config.words import units
from inventory.errors import InsufficientStock

from .proposal_models import TransferProposal
from .proposal_selectors import proposal_queryset
from .services import (
    transfer_proposal_approve,
    transfer_proposal_reject,
    transfer_proposals_generate,
)

Status = TransferProposal.Status
# Proposals waiting are all shown (a night's run is a manager's morning list); the
# decided ones of the last fortnight, the latest first.
WAITING_SHOWN = 200
DECIDED_DAYS = 14
DECIDED_SHOWN = 50


def _managers_only(request: HttpRequest) -> None:
    # A proposal moves stock between stores: the whole network's call.
    if not access.sees_every_location(request.user):
        raise Http404("Transfer proposals are for managers.")


@require_GET
@staff_screen
def transfers(request: HttpRequest) -> HttpResponse:
    _managers_only(request)
    return render(request, "reconciliation/transfers.html", _context())


def _context(**extra) -> dict:
    waiting = list(
        proposal_queryset()
        .filter(status=Status.PROPOSED)
        .order_by("-expected_units_saved", "sku__code", "id")[:WAITING_SHOWN]
    )
    since = timezone.now() - timedelta(days=DECIDED_DAYS)
    decided = list(
        proposal_queryset()
        .filter(status__in=[Status.APPROVED, Status.REJECTED], decided_at__gte=since)
        .order_by("-decided_at", "-id")[:DECIDED_SHOWN]
    )
    last = TransferProposal.objects.aggregate(at=Max("proposed_at"))["at"]
    return {
        "waiting": waiting,
        "waiting_total": TransferProposal.objects.filter(
            status=Status.PROPOSED
        ).count(),
        "decided": decided,
        "decided_days": DECIDED_DAYS,
        "last_run": last,
        "surplus_days": settings.TRANSFER_SURPLUS_DAYS,
        "shortage_days": settings.TRANSFER_SHORTAGE_DAYS,
        "currency": settings.CURRENCY_SYMBOL,
        "error": "",
        "on_row": None,
        "given": {},
        **extra,
    }


@require_POST
@staff_screen
def transfers_propose(request: HttpRequest) -> HttpResponse:
    _managers_only(request)
    made = transfer_proposals_generate(actor=Actor.of_user(request.user))
    if made:
        saved = sum(proposal.expected_units_saved for proposal in made)
        messages.success(
            request,
            f"{units(len(made), 'transfer')} proposed, saving "
            f"{units(saved, 'unit')} from running out. Any proposals still "
            "waiting from before were replaced.",
        )
    else:
        messages.success(
            request,
            "No transfer to propose: no location with stock to spare has a lane to "
            "one running out. Any proposals still waiting from before were replaced.",
        )
    return redirect("reconciliation:transfers")


@require_POST
@staff_screen
def transfer_decide(
    request: HttpRequest, proposal_id: int, action: str
) -> HttpResponse:
    _managers_only(request)
    form = request.POST
    actor = Actor.of_user(request.user)
    try:
        if action == "approve":
            quantity = (
                whole_number(form, "quantity")
                if form.get("quantity", "").strip()
                else None
            )
            proposal = transfer_proposal_approve(
                proposal_id=proposal_id,
                actor=actor,
                quantity=quantity,
                note=form.get("note", ""),
            )
            messages.success(
                request,
                f"Approved: {proposal.from_location.name} is asked to send "
                f"{units(proposal.approved_quantity, 'unit')} of {proposal.sku.code} "
                f"to {proposal.to_location.name} (transfer {proposal.transfer_id}).",
            )
        elif action == "reject":
            proposal = transfer_proposal_reject(
                proposal_id=proposal_id, actor=actor, reason=form.get("reason", "")
            )
            messages.success(
                request,
                f"Rejected: {proposal.sku.code} stays at "
                f"{proposal.from_location.name}.",
            )
        else:
            raise Http404("No such action.")
    except InvalidInput as invalid:
        return _refused(request, proposal_id, readable(invalid), 400)
    except NotFound as missing:
        raise Http404(missing.message) from missing
    except InsufficientStock as short:
        return _refused(request, proposal_id, _cannot_spare(proposal_id, short), 409)
    except DomainError as refused:
        return _refused(request, proposal_id, readable(refused), 409)
    return redirect("reconciliation:transfers")


def _cannot_spare(proposal_id: int, short: InsufficientStock) -> str:
    """The source's refusal in the manager's words: what it can still spare."""
    proposal = proposal_queryset().get(pk=proposal_id)
    shortage = (short.extra.get("shortages") or [{}])[0]
    spare = max(0, shortage.get("available_to_promise") or 0)
    return (
        f"{proposal.from_location.name} cannot spare "
        f"{units(shortage.get('requested', 0), 'unit')} of {proposal.sku.code} now: "
        f"beyond the {proposal.from_location.walk_in_buffer} it keeps for walk-ins, "
        f"it can spare {spare}. Approve fewer, or reject it; nothing was changed."
    )


def _refused(
    request: HttpRequest, proposal_id: int, error: str, status: int
) -> HttpResponse:
    """The page again, the refusal beside its row (above the list when the row is
    no longer waiting), what was typed kept; nothing was changed."""
    context = _context(error=error, on_row=proposal_id, given=request.POST)
    context["error_by_row"] = any(p.pk == proposal_id for p in context["waiting"])
    return render(request, "reconciliation/transfers.html", context, status=status)
