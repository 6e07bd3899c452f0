"""The packers' screens, under /store/packing/."""

from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.bench, name="packing"),
    path("report/", views.report, name="packing-report"),
    path(
        "problems/<int:problem_id>/<slug:action>/",
        views.decide,
        name="packing-decide",
    ),
    path("orders/<int:order_id>/ship/", views.ship, name="packing-ship"),
]
