"""OpenAPI bits: the error component on every operation, paginated envelopes, docs pages.

drf-spectacular builds the schema from the views' serializers and `extend_schema`; ApiSchema
adds the refusals every endpoint can answer, so a client (and schemathesis) finds each status
documented with the one error shape.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

COMMON_ERRORS = ("400", "401", "403", "404", "429")
BODY_ERRORS = ("413", "415")


class ErrorOutput(serializers.Serializer):
    """Every error: a sentence, and the messages of each field to blame (maybe none)."""

    detail = serializers.CharField()
    # Declared fields leave the class (DRF's metaclass): no clash with Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


class ApiSchema(AutoSchema):
    """AutoSchema plus the error responses any endpoint may give."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes = COMMON_ERRORS + (BODY_ERRORS if self.method in ("POST", "PUT", "PATCH") else ())
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ErrorOutput, code))
        return dict(sorted(responses.items()))


_PAGES: dict[type[serializers.Serializer], type[serializers.Serializer]] = {}


def paginated(output: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The limit/offset page envelope around `output` (one class per output, for the schema)."""
    if output not in _PAGES:
        name = output.__name__.removesuffix("Output")
        _PAGES[output] = type(
            f"{name}Page",
            (serializers.Serializer,),
            {
                "__doc__": f"One page of {name} items, newest first.",
                "count": serializers.IntegerField(help_text="items matching the filters"),
                "next": serializers.URLField(allow_null=True, help_text="the next page"),
                "previous": serializers.URLField(allow_null=True, help_text="the previous page"),
                "results": output(many=True),
            },
        )
    return _PAGES[output]
