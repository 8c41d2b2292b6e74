"""The OpenAPI schema (/api/schema/) and its Swagger UI (/api/docs/) and Redoc (/api/redoc/) pages.

Apart from salesops.api.schema because drf-spectacular's views import the schema class.
"""

from __future__ import annotations

from csp.decorators import csp_update
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.permissions import AllowAny

# Swagger UI and Redoc come from drf-spectacular-sidecar (served by WhiteNoise), so the
# site's CSP holds: scripts from this site only. Both draw icons from data: URIs and Redoc
# searches in a blob: worker; the split Swagger view serves its start-up script as a file.
_DOCS_CSP = {"img-src": ["data:"], "worker-src": ["blob:"]}

schema_view = SpectacularAPIView.as_view(permission_classes=[AllowAny])
swagger_view = csp_update(_DOCS_CSP)(
    SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny])
)
redoc_view = csp_update(_DOCS_CSP)(
    SpectacularRedocView.as_view(url_name="api:schema", permission_classes=[AllowAny])
)
