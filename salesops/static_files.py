"""WhiteNoise that still serves the admin's CSS and scripts when `collectstatic` never ran."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """Serves STATIC_ROOT (compressed, as `make run` collects it); when STATIC_ROOT holds no
    file yet, serves from the apps' static folders instead of answering 404 for each one."""

    def __init__(self, get_response: Any = None, settings: Any = django_settings) -> None:
        super().__init__(get_response, settings=settings)
        # Decided when the server starts, not at settings import: `make run` collects first,
        # and a process that finds the collected files keeps their compressed copies.
        use_finders: bool = getattr(self, "use_finders", False)
        if not use_finders and not self.autorefresh and not self.files:
            self.use_finders = True
            self.add_files_from_finders()
