"""The store team's screens, under /store/."""

from django.urls import path

from . import views

app_name = "pickup"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("problems/", views.problems, name="problems"),
    path("tasks/<int:task_id>/", views.task_page, name="task"),
    path("tasks/<int:task_id>/<slug:action>/", views.task_action, name="task-action"),
    path(
        "problems/<int:problem_id>/substitutes/",
        views.substitute_search,
        name="substitute-search",
    ),
    path(
        "problems/<int:problem_id>/<slug:action>/",
        views.problem_action,
        name="problem-action",
    ),
    path(
        "work/<slug:kind>/<int:item_id>/",
        views.side_work_action,
        name="side-work",
    ),
]
