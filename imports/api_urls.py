"""The imports API under /api/v1/: jobs and exports."""

urlpatterns: list = []
