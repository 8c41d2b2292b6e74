"""WSGI entry point: `gunicorn -c python:salesops.gunicorn_conf salesops.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesops.settings")
application = get_wsgi_application()
# Import every view now, not on a worker's first request: with gunicorn's preload_app the
# workers fork with them loaded, and no user waits seconds for the first page.
get_resolver().url_patterns  # noqa: B018
