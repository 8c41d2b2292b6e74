"""The salesops Django app."""

import sys
from typing import Any

from django.apps import AppConfig
from django.core.signals import request_started
from django.db.models.signals import post_migrate


class SalesopsConfig(AppConfig):
    name = "salesops"
    verbose_name = "SalesOps"

    def ready(self) -> None:
        from django_q.signals import pre_execute

        # Local CRM changes fire the same events as webhooks; connect them to the router.
        # `checks` registers the deploy checks (encryption keys).
        from salesops import checks, receivers  # noqa: F401

        post_migrate.connect(_after_migrate, sender=self)
        # Connections from the environment (HUBSPOT_ACCESS_TOKEN, ...) are applied by
        # `migrate`, and once more per process on its first request or first task: a changed
        # token then needs only a restart, not a migrate. These hooks run before anything
        # reads a connection (the webhook view, a run task, a sync task), cost one flag check
        # after the first call, and never fail the request or task (see connections_env).
        # connection_default() is not used as the hook: webhooks and syncs name their
        # connection by slug and never call it.
        request_started.connect(_first_use, dispatch_uid="salesops-connections-env-web")
        pre_execute.connect(_first_use, dispatch_uid="salesops-connections-env-worker")

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


def _after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Keep the "viewers" group complete and apply the environment's connections."""
    from django.contrib.auth.models import Group, Permission

    from salesops.services.connections_env import connections_env_apply

    # Migration 0005 gave "viewers" every view permission of its time; models added since
    # (Connection, SyncState) get theirs here, so the group stays "every view permission".
    group = Group.objects.using(using).filter(name="viewers").first()
    if group is not None:
        views = Permission.objects.using(using).filter(
            content_type__app_label="salesops", codename__startswith="view_"
        )
        group.permissions.add(*views)
    if using == "default":
        connections_env_apply()  # loud: a clash fails `migrate` with the reason


def _first_use(**kwargs: Any) -> None:
    from salesops.services.connections_env import connections_env_ensure

    connections_env_ensure()
