"""Customer service's pages under /store/support/: the find page (``support:find``),
an order's story (``support:order``) and its change of pickup store
(``support:change-pickup-store``)."""

from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.find, name="find"),
    path("orders/<int:order_id>/", views.order_page, name="order"),
    path(
        "orders/<int:order_id>/pickup-store/",
        views.change_pickup_store,
        name="change-pickup-store",
    ),
]
