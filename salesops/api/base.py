"""What every endpoint shares: bounded JSON in, token or session auth, the admin's model
permissions, a token rate limit, limit/offset pages and the schema class."""

from __future__ import annotations

from django.db.models import Model
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.views import APIView

from salesops.api.auth import HashedTokenAuthentication, TokenRateThrottle
from salesops.api.parsers import BoundedJSONParser
from salesops.api.permissions import ModelPermissions
from salesops.api.schema import ApiSchema


class Pagination(LimitOffsetPagination):
    """`?limit=` (1 to 500, default 50) and `?offset=`; pages carry count, next and previous."""

    default_limit = 50
    max_limit = 500


class ApiView(APIView):
    """Every endpoint: bounded JSON in, the admin's model permissions on `permission_model`."""

    # Token first: an anonymous request then gets a 401 naming the scheme, not a bare 403.
    authentication_classes = [
        HashedTokenAuthentication,
        SessionAuthentication,
        BasicAuthentication,
    ]
    parser_classes = [BoundedJSONParser]
    permission_classes = [ModelPermissions]
    throttle_classes = [TokenRateThrottle]
    schema = ApiSchema()
    permission_model: type[Model]
    write_action: str | None = None  # None: the method's (POST adds)
    explicit_permissions: tuple[str, ...] = ()
