"""The sync health page, under /store/."""

from django.urls import path

from . import views

app_name = "sync"

urlpatterns = [path("sync/", views.sync_health, name="health")]
