"""A local CRM behind a scripted storm: it answers the next scripted faults (429, 500, a
permanent refusal, any exception) before calls go through, like a vendor API under load."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from connectors.base import (
    Action,
    ActionResult,
    CrmRecord,
    PermanentCRMError,
    RetriableCRMError,
)
from connectors.local.connector import LocalConnector


def too_many(retry_after: float | None = 2) -> RetriableCRMError:
    return RetriableCRMError("429 Too Many Requests", retry_after=retry_after)


def server_error() -> RetriableCRMError:
    return RetriableCRMError("500 Internal Server Error")


def bad_request() -> PermanentCRMError:
    return PermanentCRMError("400 Bad Request: property ai_score is read-only")


class StormyConnector(LocalConnector):
    """Faults per method ("get_many", "apply", and "action": one action of a batch fails
    while the others go through, like HubSpot's 207), answered in order, then real calls."""

    faults: ClassVar[dict[str, list[BaseException]]] = {}
    calls: ClassVar[Counter[str]] = Counter()
    # What the vendor's rate-limit headers said, for the usage() hook (None: nothing said).
    reported: ClassVar[Mapping[str, int | None] | None] = None
    rate_limits: ClassVar[Mapping[str, tuple[int, float]]] = {"burst": (10_000, 1.0)}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # A network between us and the CRM: the limiter and usage counters wrap it.
        self.capabilities = replace(
            self.capabilities, transport=True, rate_limits=dict(self.rate_limits)
        )

    @classmethod
    def storm(cls, **faults: list[BaseException]) -> None:
        cls.faults = {name: list(queue) for name, queue in faults.items()}
        cls.calls = Counter()
        cls.reported = None

    @classmethod
    def calm(cls) -> None:
        cls.storm()

    def _next_fault(self, method: str) -> None:
        StormyConnector.calls[method] += 1
        queue = StormyConnector.faults.get(method)
        if queue:
            raise queue.pop(0)

    def usage(self) -> Mapping[str, int | None] | None:
        return StormyConnector.reported

    def get_many(self, object_type: str, ids: Sequence[str]) -> list[CrmRecord]:
        self._next_fault("get_many")
        return super().get_many(object_type, ids)

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        self._next_fault("apply")
        return super().apply(actions)

    def _apply_one(self, action: Action) -> ActionResult:
        self._next_fault("action")  # a RetriableCRMError here is a retriable `failed` result
        return super()._apply_one(action)
