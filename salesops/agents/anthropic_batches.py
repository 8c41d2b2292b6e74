"""Message Batches and stand-alone judge calls: capabilities of the anthropic engine.

The service layer asks the engine for these (`engine.batches()`, `engine.judge_for(...)`) and
never touches the SDK: every SDK error becomes a BatchError with a reviewer-readable reason.
Pure Python, no Django. The SDK is imported inside the methods: the schedule service imports
this module on every engine, and importing `anthropic` costs over a second of start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import anthropic
    from anthropic.types.messages.batch_create_params import Request

    from salesops.agents.anthropic_engine import AnthropicEngine


class BatchError(Exception):
    """A batch call failed or cannot be made (no credentials, API error); str() is the reason."""


@dataclass(frozen=True)
class RemoteBatch:
    """What the API says about a batch: id, processing status, request counts, end time."""

    id: str
    status: str
    counts: dict[str, Any] = field(default_factory=dict)
    ended_at: datetime | None = None


def _remote(batch: Any) -> RemoteBatch:
    return RemoteBatch(
        id=batch.id,
        status=batch.processing_status,
        counts=batch.request_counts.model_dump(),
        ended_at=batch.ended_at,
    )


class MessageBatches:
    """Submit, poll, read and cancel Message Batches with the engine's client and settings."""

    def __init__(self, engine: AnthropicEngine) -> None:
        self.engine = engine

    def ready(self) -> None:
        """Raise BatchError (with the reason) unless a batch could be sent now."""
        self._client()

    def _client(self) -> anthropic.Anthropic:
        import anthropic

        from salesops.agents.anthropic_engine import has_credentials  # the engine imports us

        try:
            client = self.engine.client()
        except anthropic.AnthropicError as exc:
            raise BatchError(f"Anthropic client: {exc}") from exc
        if not has_credentials(client):
            raise BatchError("no Anthropic credentials: set ANTHROPIC_API_KEY")
        return client

    def _describe(self, exc: Exception) -> str:
        import anthropic

        if isinstance(exc, anthropic.APIError):
            return self.engine.describe_error(exc)
        return f"{type(exc).__name__}: {exc}"

    def submit(self, requests: list[dict[str, Any]]) -> RemoteBatch:
        """Create a batch; https://docs.anthropic.com/en/api/creating-message-batches"""
        import anthropic

        try:
            # Built as plain JSON by batch_requests.batch_request; the SDK types it as TypedDicts.
            typed = cast("list[Request]", requests)
            return _remote(self._client().messages.batches.create(requests=typed))
        except anthropic.AnthropicError as exc:
            raise BatchError(self._describe(exc)) from exc

    def retrieve(self, batch_id: str) -> RemoteBatch:
        """Poll a batch; https://docs.anthropic.com/en/api/retrieving-message-batches"""
        import anthropic

        try:
            return _remote(self._client().messages.batches.retrieve(batch_id))
        except anthropic.AnthropicError as exc:
            raise BatchError(self._describe(exc)) from exc

    def results(self, batch_id: str) -> Iterator[dict[str, Any]]:
        """Each result line as JSON, in any order.

        https://docs.anthropic.com/en/api/retrieving-message-batch-results
        """
        import anthropic

        try:
            for line in self._client().messages.batches.results(batch_id):
                yield line.model_dump(mode="json")
        except anthropic.AnthropicError as exc:
            raise BatchError(self._describe(exc)) from exc

    def cancel(self, batch_id: str) -> RemoteBatch:
        """Ask the API to cancel a batch; its open requests end as canceled."""
        import anthropic

        try:
            return _remote(self._client().messages.batches.cancel(batch_id))
        except anthropic.AnthropicError as exc:
            raise BatchError(self._describe(exc)) from exc
