"""The salesops Django app."""

from django.apps import AppConfig


class SalesopsConfig(AppConfig):
    name = "salesops"
    verbose_name = "SalesOps"

    def ready(self) -> None:
        # Local CRM changes fire the same events as webhooks; connect them to the router.
        from salesops import receivers  # noqa: F401
