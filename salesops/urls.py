"""URL routes: admin, webhooks, REST API."""

from django.contrib import admin
from django.urls import include, path

from salesops.webhooks.views import webhook_receive

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/<slug:kind>/", webhook_receive, name="webhook-receive"),
    path("api/", include("salesops.api.urls")),
]
