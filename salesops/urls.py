"""URL routes: the front door and health check, admin, webhooks, REST API."""

from django.contrib import admin
from django.urls import include, path

from salesops.views_front import front_door, healthz
from salesops.webhooks.salesforce import salesforce_outbound_receive
from salesops.webhooks.views import webhook_receive

urlpatterns = [
    path("", front_door, name="front-door"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Salesforce Outbound Messages carry no signature: the secret is the URL's last segment.
    path(
        "webhooks/salesforce/<slug:slug>/<str:secret>/",
        salesforce_outbound_receive,
        name="webhook-receive-salesforce",
    ),
    path("webhooks/<slug:kind>/<slug:slug>/", webhook_receive, name="webhook-receive"),
    # The old per-kind URL: answers only while one connection of that kind exists.
    path("webhooks/<slug:kind>/", webhook_receive, name="webhook-receive-kind"),
    path("api/", include("salesops.api.urls")),
]
