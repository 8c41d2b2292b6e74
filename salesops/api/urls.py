"""REST API routes, mounted under /api/ (docs at /api/docs/, schema at /api/schema/)."""

from django.urls import path, re_path

from salesops.api import (
    connections,
    docs,
    views_dashboard,
    views_escalations,
    views_root,
    views_runs,
    views_sops,
)

app_name = "api"

urlpatterns = [
    path("", views_root.ApiRootApi.as_view(), name="root"),
    path("schema/", docs.schema_view, name="schema"),
    path("docs/", docs.swagger_view, name="docs"),
    path("redoc/", docs.redoc_view, name="redoc"),
    path("connections/", connections.ConnectionListApi.as_view(), name="connection-list"),
    path("sops/", views_sops.SopListApi.as_view(), name="sop-list"),
    path("sops/<slug:name>/", views_sops.SopDetailApi.as_view(), name="sop-detail"),
    path(
        "sops/<slug:name>/versions/",
        views_sops.SopVersionListApi.as_view(),
        name="sop-version-list",
    ),
    path(
        "sops/<slug:name>/versions/<int:number>/",
        views_sops.SopVersionDetailApi.as_view(),
        name="sop-version-detail",
    ),
    path("runs/", views_runs.RunListApi.as_view(), name="run-list"),
    path("runs/batch/", views_runs.RunBatchApi.as_view(), name="run-batch"),
    path("runs/<int:run_id>/", views_runs.RunDetailApi.as_view(), name="run-detail"),
    path("escalations/", views_escalations.EscalationListApi.as_view(), name="escalation-list"),
    path(
        "escalations/<int:escalation_id>/",
        views_escalations.EscalationDetailApi.as_view(),
        name="escalation-detail",
    ),
    path(
        "escalations/<int:escalation_id>/approve/",
        views_escalations.EscalationApproveApi.as_view(),
        name="escalation-approve",
    ),
    path(
        "escalations/<int:escalation_id>/reject/",
        views_escalations.EscalationRejectApi.as_view(),
        name="escalation-reject",
    ),
    path("dashboard/", views_dashboard.DashboardApi.as_view(), name="dashboard"),
    # Last: every other path (and method) under /api/ is a JSON 404, not Django's HTML page.
    re_path(r"^.*$", views_root.NotFoundApi.as_view(), name="not-found"),
]
