"""The name each set of choices takes in the OpenAPI schema (drf-spectacular's
``ENUM_NAME_OVERRIDES``): one name per set, so generated clients get stable type
names. Kept apart from the settings, which read it, as plain strings."""

SCHEMA_ENUM_NAMES = {
    "ChannelKindEnum": "catalog.models.Channel.Kind",
    "LocationKindEnum": "inventory.models.Location.Kind",
    "MovementTypeEnum": "inventory.models.MovementType",
    "MovementStatusEnum": "inventory.models.StockMovement.Status",
    "SentMovementTypeEnum": "inventory.movements.INTEGRATION_TYPE_CHOICES",
    "AvailabilityStatusEnum": "inventory.selectors.AvailabilityStatus",
    "ReservationStatusEnum": "inventory.models.Reservation.Status",
    "OrderStatusEnum": "orders.models.Order.Status",
    "OrderLineStatusEnum": "orders.models.OrderLine.Status",
    "ReturnToStockStatusEnum": "orders.models.ReturnToStockTask.Status",
    "FulfilmentMethodEnum": "orders.models.Method",
    "OrderEventKindEnum": "orders.models.OrderEvent.Kind",
    "WebhookEventKindEnum": "sync.models.EventKind",
    "WebhookStateEnum": "sync.models.WebhookSubscription.State",
    "WebhookSignatureSchemeEnum": "sync.models.WebhookSubscription.SignatureScheme",
    "WebhookFormatEnum": "sync.models.WebhookSubscription.Format",
    "SupplyKindEnum": "inventory.models.Supply.Kind",
    "SupplyStatusEnum": "inventory.models.Supply.Status",
    "TransferProposalStatusEnum": "reconciliation.proposal_models.TransferProposal.Status",
    "ImportJobStatusEnum": "imports.models.ImportJob.Status",
    "ImportFileFormatEnum": "imports.models.ImportJob.Format",
    "ImportKindEnum": "imports.kinds.KIND_CHOICES",
}
