"""The imports API under /api/v1/: jobs and exports."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .apis import ExportView, ImportJobViewSet

router = SimpleRouter()
router.register("imports", ImportJobViewSet, basename="import-job")

urlpatterns = [
    path("exports/<str:kind>/", ExportView.as_view(), name="imports-export"),
    *router.urls,
]
