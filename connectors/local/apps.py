"""The embedded local CRM, a small CRM in the project's own tables."""

from django.apps import AppConfig


class LocalCrmConfig(AppConfig):
    name = "connectors.local"
    label = "localcrm"
    verbose_name = "Local CRM"
