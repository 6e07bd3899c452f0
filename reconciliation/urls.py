"""The exception queue, counts, accuracy, reconciliation runs, the managers'
dashboard, the channels' velocity buffers and the transfer proposals, under
/store/."""

from django.urls import path

from . import buffer_views, dashboard_views, proposal_views, run_views, views

app_name = "reconciliation"

urlpatterns = [
    path("exceptions/", views.exception_queue, name="exceptions"),
    path("exceptions/<int:case_id>/", views.exception_page, name="exception"),
    path(
        "exceptions/<int:case_id>/<slug:action>/",
        views.exception_action,
        name="exception-action",
    ),
    path("counts/", views.counts_home, name="counts"),
    path("counts/start/", views.count_start, name="count-start"),
    path("counts/<int:task_id>/", views.count_page, name="count"),
    path("counts/<int:task_id>/review/", views.count_review, name="count-review"),
    path(
        "counts/<int:task_id>/<slug:action>/", views.count_action, name="count-action"
    ),
    path("accuracy/", views.accuracy, name="accuracy"),
    path("dashboard/", dashboard_views.dashboard_page, name="dashboard"),
    path("reconciliation/", run_views.runs, name="runs"),
    path("reconciliation/start/", run_views.run_start, name="run-start"),
    path("reconciliation/<int:run_id>/", run_views.run_page, name="run"),
    path("buffers/", buffer_views.buffers, name="buffers"),
    path("buffers/<str:code>/", buffer_views.buffer_channel, name="buffer-channel"),
    path(
        "buffers/<str:code>/recompute/",
        buffer_views.buffer_recompute,
        name="buffer-recompute",
    ),
    path("transfers/", proposal_views.transfers, name="transfers"),
    path(
        "transfers/propose/",
        proposal_views.transfers_propose,
        name="transfers-propose",
    ),
    path(
        "transfers/<int:proposal_id>/<slug:action>/",
        proposal_views.transfer_decide,
        name="transfer-decide",
    ),
]
