"""The salesops Django app."""

import sys

from django.apps import AppConfig


class SalesopsConfig(AppConfig):
    name = "salesops"
    verbose_name = "SalesOps"

    def ready(self) -> None:
        # Local CRM changes fire the same events as webhooks; connect them to the router.
        from salesops import receivers  # noqa: F401

        if "qcluster" in sys.argv:
            # Compile the published SOPs once, before django-q2 forks its workers: each worker
            # then inherits them instead of spending ~0.5 s per SOP on its first runs.
            import warnings

            from django.db import connections

            from salesops.services.sops import sop_specs_warm

            with warnings.catch_warnings():
                # Deliberate: reading the published SOPs here is what lets the workers share them.
                warnings.filterwarnings("ignore", message="Accessing the database during app")
                sop_specs_warm()
            connections.close_all()  # forked workers must not share this process's connection
