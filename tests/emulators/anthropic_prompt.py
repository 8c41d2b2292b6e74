"""Prompt accounting for the Messages API emulator: token estimates, prompt cache, validation."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

CHARS_PER_TOKEN = 4


def estimate_tokens(chars: int) -> int:
    """Tokens for a number of characters (the emulator's fixed 4 chars/token)."""
    return chars // CHARS_PER_TOKEN


def canon(block: Any) -> str:
    """Canonical JSON of a block, without its cache_control marker."""
    # cache_control marks a breakpoint; it is not part of the cached content itself.
    if isinstance(block, dict):
        block = {k: v for k, v in block.items() if k != "cache_control"}
    return json.dumps(block, sort_keys=True, separators=(",", ":"))


def segments(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """The prompt as (text, has breakpoint) units in cache order: tools, system, messages."""
    units: list[tuple[str, bool]] = []
    for tool in body.get("tools") or []:
        units.append((canon(tool), "cache_control" in tool))
    system = body.get("system")
    if isinstance(system, str):
        units.append((system, False))
    for block in system if isinstance(system, list) else []:
        units.append((canon(block), "cache_control" in block))
    for msg in body.get("messages") or []:
        content = msg.get("content")
        if isinstance(content, str):
            units.append((msg.get("role", "") + ":" + content, False))
            continue
        for block in content or []:
            units.append((msg.get("role", "") + ":" + canon(block), "cache_control" in block))
    return units


def count_tokens(body: dict[str, Any]) -> int:
    """Estimated input tokens of a whole request."""
    return estimate_tokens(sum(len(text) for text, _ in segments(body)))


class PromptCache:
    """Prefix cache keyed by model and the exact content up to each cache_control breakpoint."""

    def __init__(self, ttl_seconds: float = 300.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, float] = {}  # prefix hash -> expiry (monotonic)
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every cached prefix."""
        with self._lock:
            self._entries.clear()

    def usage(self, body: dict[str, Any], minimum: int) -> dict[str, Any]:
        """Input token figures with cache reads/writes applied, as the API reports them."""
        units = segments(body)
        # Same rounding as the prefix counts below, so cached parts never exceed the total.
        total = estimate_tokens(sum(len(t) for t, _ in units))
        digest = hashlib.sha256(str(body.get("model")).encode())
        chars, breakpoints = 0, []  # (hash, prefix tokens) at each breakpoint
        boundaries = []  # (hash, prefix tokens) at every block boundary
        for unit, marked in units:
            digest.update(unit.encode() + b"\x00")
            chars += len(unit)
            boundaries.append((digest.copy().hexdigest(), estimate_tokens(chars)))
            if marked:
                breakpoints.append(boundaries[-1])
        # Like the API, a breakpoint also finds entries written at any of the 20 block
        # boundaries before it: a breakpoint that moved on to a later turn still reads the
        # prefix an earlier turn cached.
        lookback = set()
        for index, (_unit, marked) in enumerate(units):
            if marked:
                lookback.update(boundaries[max(0, index - 20) : index + 1])
        read = write = 0
        now = time.monotonic()
        with self._lock:
            hits = [tok for key, tok in lookback if self._entries.get(key, 0) > now]
            read = max(hits, default=0)
            # Below the model's minimum a breakpoint is silently ignored, like the real API.
            cacheable = [(key, tok) for key, tok in breakpoints if tok >= minimum]
            if cacheable and cacheable[-1][1] > read:
                write = cacheable[-1][1] - read
            for key, tok in cacheable:  # a read or a write refreshes the entry's lifetime
                if tok <= read + write:
                    self._entries[key] = now + self.ttl_seconds
        return {
            "input_tokens": total - read - write,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
            "service_tier": "standard",
        }


def validate_request(body: Any, *, need_max_tokens: bool) -> str:
    """The subset of the API's request validation that catches client bugs; "" when valid."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    for key in ("model", "messages") + (("max_tokens",) if need_max_tokens else ()):
        if key not in body:
            return f"{key}: Field required"
    messages = body["messages"]
    if not messages or messages[0].get("role") != "user":
        return 'messages: first message must use the "user" role'
    system = body.get("system")
    marks = sum("cache_control" in t for t in body.get("tools") or [])
    marks += sum("cache_control" in b for b in (system if isinstance(system, list) else []))
    for m in messages:
        if isinstance(m.get("content"), list):
            marks += sum("cache_control" in b for b in m["content"])
    if marks > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {marks}."
    for i, m in enumerate(messages):
        content = m.get("content") if isinstance(m.get("content"), list) else []
        ids = [b["id"] for b in content if b.get("type") == "tool_use"]
        if m.get("role") != "assistant" or not ids or i + 1 >= len(messages):
            continue
        nxt = messages[i + 1].get("content")
        got = {
            b.get("tool_use_id")
            for b in (nxt if isinstance(nxt, list) else [])
            if b.get("type") == "tool_result"
        }
        missing = [x for x in ids if x not in got]
        if missing:
            return (
                f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
    return ""
