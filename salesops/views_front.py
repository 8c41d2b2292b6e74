"""The front door: `/` leads to the admin, `/healthz` answers load balancers."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def front_door(request: HttpRequest) -> HttpResponse:
    """`/`: the admin is the product's only page for people."""
    return HttpResponseRedirect(reverse("admin:index"))


@csrf_exempt
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database for load balancers: 200 when `SELECT 1` answers, else 503.

    No login and no session: a probe sends no cookie, and must not create a session row.
    """
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"status": "error", "detail": "GET only"}, status=405)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The reason goes to the log, not to an unauthenticated caller.
        logger.warning("healthz: database check failed: %s", exc)
        return JsonResponse({"status": "error", "database": "error"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
