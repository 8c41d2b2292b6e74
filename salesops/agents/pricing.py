"""Prices and prompt-cache minimums of Claude models, and the cost of one call. Pure Python.

Prices are USD per million tokens (public list prices, standard tier). Cache writes (5-minute
TTL) cost 1.25x the input price and cache reads 0.1x. Message Batches API calls cost half of
every figure (the discounts stack). A model missing from the table is priced
as the most expensive model of its family, so a budget errs on the side of stopping early.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DEFAULT_MODEL = "claude-sonnet-4-6"
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.10
BATCH_DISCOUNT = 0.50  # Message Batches API: 50% of the interactive price, cache prices included


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens, and the shortest prefix the model will cache (tokens)."""

    input: float
    output: float
    min_cacheable_tokens: int

    @property
    def cache_write(self) -> float:
        return self.input * CACHE_WRITE_FACTOR

    @property
    def cache_read(self) -> float:
        return self.input * CACHE_READ_FACTOR


PRICES: dict[str, ModelPrice] = {
    "claude-opus-4-6": ModelPrice(5.0, 25.0, 4096),
    "claude-opus-4-5": ModelPrice(5.0, 25.0, 4096),
    "claude-opus-4-1": ModelPrice(15.0, 75.0, 1024),
    "claude-opus-4-0": ModelPrice(15.0, 75.0, 1024),
    # Sonnet 4.6 is documented at 1024 but observed to cache only from 2048; report conservatively.
    "claude-sonnet-4-6": ModelPrice(3.0, 15.0, 2048),
    "claude-sonnet-4-5": ModelPrice(3.0, 15.0, 1024),
    "claude-sonnet-4-0": ModelPrice(3.0, 15.0, 1024),
    "claude-haiku-4-5": ModelPrice(1.0, 5.0, 4096),
    "claude-3-5-haiku": ModelPrice(0.8, 4.0, 2048),
    "claude-3-haiku": ModelPrice(0.25, 1.25, 2048),
}
_ALIASES = {"claude-opus-4": "claude-opus-4-0", "claude-sonnet-4": "claude-sonnet-4-0"}
_FAMILIES = ("opus", "sonnet", "haiku")


def _canonical(model: str) -> str:
    """Strip a snapshot date (`-20250929`) and `-latest`, and map bare aliases."""
    name = re.sub(r"-(\d{8}|latest)$", "", model.strip().lower())
    return _ALIASES.get(name, name)


def price_for(model: str) -> tuple[ModelPrice, bool]:
    """The model's price and whether it is exact (False: a conservative family estimate)."""
    name = _canonical(model)
    if name in PRICES:
        return PRICES[name], True
    family = next((f for f in _FAMILIES if f in name), None)
    pool = [p for n, p in PRICES.items() if family and family in n] or list(PRICES.values())
    # Unknown model: charge the highest price and demand the longest cacheable prefix.
    return (
        ModelPrice(
            input=max(p.input for p in pool),
            output=max(p.output for p in pool),
            min_cacheable_tokens=max(p.min_cacheable_tokens for p in pool),
        ),
        False,
    )


def min_cacheable_tokens(model: str) -> int:
    """The shortest prefix (tokens) the model caches; shorter breakpoints are ignored."""
    return price_for(model)[0].min_cacheable_tokens


def _field(usage: Any, name: str) -> int:
    value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
    return int(value or 0)


def cost(usage: Any, model: str, *, batch: bool = False) -> float:
    """USD cost of one call from its usage (an SDK Usage object or a dict of the same fields)."""
    price = price_for(model)[0]
    total = (
        _field(usage, "input_tokens") * price.input
        + _field(usage, "output_tokens") * price.output
        + _field(usage, "cache_creation_input_tokens") * price.cache_write
        + _field(usage, "cache_read_input_tokens") * price.cache_read
    )
    return total / 1_000_000 * (BATCH_DISCOUNT if batch else 1.0)
