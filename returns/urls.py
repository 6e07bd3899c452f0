"""The returns screens, under /store/returns/."""

from django.urls import path

from . import insight, views

app_name = "returns"

urlpatterns = [
    path("", views.returns_home, name="home"),
    path("insight/", insight.insight, name="insight"),
    path("receive/till/", views.receive_till, name="receive-till"),
    path("receive/till/item/", views.till_item, name="till-item"),
    path("receive/order/<int:order_id>/", views.receive_order, name="receive-order"),
    path("<int:return_id>/", views.return_page, name="return"),
    path("<int:return_id>/<slug:action>/", views.return_action, name="return-action"),
]
