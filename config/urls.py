"""URL map: the back-office pages, the admin, and the versioned REST API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from catalog.apis import ProductViewSet, SkuViewSet
from inventory.allocation_apis import AllocationListView, AllocationView
from inventory.apis import AvailabilityView, LocationViewSet, MovementViewSet
from inventory.buffer_apis import BufferView
from inventory.channel_apis import ChannelViewSet
from inventory.reservation_apis import ReservationViewSet
from inventory.supply_apis import (
    SupplyCallOffView,
    SupplyListView,
    SupplyRescheduleView,
)
from inventory.timeline_apis import AvailabilityTimelineView
from orders.apis import OrderViewSet, ReturnToStockTaskViewSet
from pickup.apis import ChangePickupLocationView
from reconciliation.apis import ExceptionViewSet, SnapshotViewSet
from reconciliation.proposal_apis import TransferProposalViewSet
from returns.apis import ReturnViewSet
from sync.apis import (
    AvailabilityChangesView,
    SyncHealthView,
    WebhookSubscriptionViewSet,
)
from sync.network_apis import NetworkAvailabilityView

from .health import live, ready
from .metrics import metrics_view
from .views import home

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
# Django tries the patterns in order: the busiest endpoints (a checkout's holds, the
# tills' movements) come first, so they are found before the catalogue's patterns.
router.register("reservations", ReservationViewSet, basename="reservation")
router.register("orders", OrderViewSet, basename="order")
router.register("returns", ReturnViewSet, basename="return")
router.register("exceptions", ExceptionViewSet, basename="exception")
router.register("snapshots", SnapshotViewSet, basename="snapshot")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhook")
router.register(
    "transfer-proposals", TransferProposalViewSet, basename="transfer-proposal"
)
router.register(
    "return-to-stock-tasks", ReturnToStockTaskViewSet, basename="return-to-stock-task"
)
router.register("movements", MovementViewSet, basename="movement")
router.register("products", ProductViewSet, basename="product")
router.register("skus", SkuViewSet, basename="sku")
router.register("channels", ChannelViewSet, basename="channel")
router.register("locations", LocationViewSet, basename="location")

urlpatterns = [
    path("", home, name="home"),
    # For the load balancer and the orchestrator (docs/operations.md): alive, ready
    # to serve, and Prometheus's scrape.
    path("healthz", live, name="health"),
    path("readyz", ready, name="ready"),
    path("metrics", metrics_view, name="metrics"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("store/returns/", include("returns.urls")),
    path("store/", include("reconciliation.urls")),
    path("store/", include("pickup.urls")),
    path("store/", include("sync.urls")),
    path("store/support/", include("support.urls")),
    path("store/packing/", include("orders.urls")),
    path("store/imports/", include("imports.urls")),
    path(
        "api/v1/availability/timeline/",
        AvailabilityTimelineView.as_view(),
        name="availability-timeline",
    ),
    path(
        "api/v1/availability/network/",
        NetworkAvailabilityView.as_view(),
        name="availability-network",
    ),
    path("api/v1/availability/", AvailabilityView.as_view(), name="availability"),
    path(
        "api/v1/availability/changes/",
        AvailabilityChangesView.as_view(),
        name="availability-changes",
    ),
    path("api/v1/sync-health/", SyncHealthView.as_view(), name="sync-health"),
    path("api/v1/buffers/", BufferView.as_view(), name="buffers"),
    path("api/v1/allocations/", AllocationListView.as_view(), name="allocations"),
    path("api/v1/supply/", SupplyListView.as_view(), name="supply"),
    path(
        "api/v1/supply/<path:reference>/reschedule/",
        SupplyRescheduleView.as_view(),
        name="supply-reschedule",
    ),
    path(
        "api/v1/supply/<path:reference>/call-off/",
        SupplyCallOffView.as_view(),
        name="supply-call-off",
    ),
    path(
        "api/v1/allocations/<str:channel>/<str:sku>/<str:location>/",
        AllocationView.as_view(),
        name="allocation",
    ),
    path(
        "api/v1/orders/<int:pk>/change-pickup-location/",
        ChangePickupLocationView.as_view(),
        name="order-change-pickup-location",
    ),
    path("api/v1/", include("imports.api_urls")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from its own URL, and the
    # template has no inline style: the page needs no 'unsafe-inline' (security.md).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("api-auth/", include("rest_framework.urls")),
]

# Django's own errors (a body too large, no such path, an exception no handler knew):
# JSON under /api/, Django's pages elsewhere (config/views.py).
handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"

admin.site.site_header = "One stock back-office"
admin.site.site_title = "One stock"
