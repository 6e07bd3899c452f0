"""The packers' screens, under /store/packing/."""

from django.urls import path

from . import views

app_name = "orders"

urlpatterns: list = []
