"""REST API routes, mounted under /api/."""

from django.urls import path

from salesops.api import connections, views

app_name = "api"

urlpatterns = [
    path("connections/", connections.ConnectionListApi.as_view(), name="connection-list"),
    path("sops/", views.SopListApi.as_view(), name="sop-list"),
    path("sops/<slug:name>/", views.SopDetailApi.as_view(), name="sop-detail"),
    path(
        "sops/<slug:name>/versions/", views.SopVersionCreateApi.as_view(), name="sop-version-create"
    ),
    path("runs/", views.RunListApi.as_view(), name="run-list"),
    path("runs/<int:run_id>/", views.RunDetailApi.as_view(), name="run-detail"),
    path("escalations/", views.EscalationListApi.as_view(), name="escalation-list"),
    path(
        "escalations/<int:escalation_id>/approve/",
        views.EscalationApproveApi.as_view(),
        name="escalation-approve",
    ),
    path(
        "escalations/<int:escalation_id>/reject/",
        views.EscalationRejectApi.as_view(),
        name="escalation-reject",
    ),
]
