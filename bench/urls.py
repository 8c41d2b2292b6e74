"""Bench-only URLs: the production routes plus a bare view answering 204 (the ceiling).

Used by bench/webhook_ingest.py through ROOT_URLCONF; never by salesops.settings.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from salesops.urls import urlpatterns as salesops_urlpatterns


@csrf_exempt
def bare(request: HttpRequest) -> HttpResponse:
    """Nothing but Django's request/response cycle and the middleware."""
    return HttpResponse(status=204)


urlpatterns = [path("bench/bare/", bare), *salesops_urlpatterns]
