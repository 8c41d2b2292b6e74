"""URL routes: admin, webhooks, REST API."""

from django.contrib import admin
from django.urls import include, path

from salesops.webhooks.views import webhook_receive

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/<slug:kind>/<slug:slug>/", webhook_receive, name="webhook-receive"),
    # The old per-kind URL: answers only while one connection of that kind exists.
    path("webhooks/<slug:kind>/", webhook_receive, name="webhook-receive-kind"),
    path("api/", include("salesops.api.urls")),
]
