"""Bounded input at the edges: one validator for every external payload (webhook body, API
payload, admin form, SOP text) before any parser that can recurse. Pure Python."""

from connectors.inputs.bounds import (
    DEFAULT_LIMITS,
    InputRejected,
    Limits,
    json_loads_bounded,
    text_check,
    value_check,
)

__all__ = [
    "DEFAULT_LIMITS",
    "InputRejected",
    "Limits",
    "json_loads_bounded",
    "text_check",
    "value_check",
]
