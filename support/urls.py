"""Customer service's pages under /store/support/: the find page (``support:find``)
and an order's story (``support:order``)."""

from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.find, name="find"),
    path("orders/<int:order_id>/", views.order_page, name="order"),
]
