"""The manager's imports screen under /store/imports/."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.imports, name="imports"),
    path("<int:job_id>/", views.job_page, name="job"),
]
