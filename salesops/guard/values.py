"""Parsers for the values an injection asks for ("100%" -> 1.0, "closed-won" -> closedwon).

Pure Python; shared by the detector (salesops/guard/patterns.py) and the verifier's check.
"""

from __future__ import annotations

import re
from typing import Any, Final

REJECT: Final = object()  # a parser's answer when the captured text is not a real value


def stage_value(raw: str) -> Any:
    key = re.sub(r"[^a-z]", "", raw.lower())
    if key in ("won", "win", "closedwon", "closewon"):
        return "closedwon"
    if key in ("lost", "loss", "closedlost", "closelost"):
        return "closedlost"
    return key or REJECT


def health_value(raw: str) -> Any:
    value = raw.lower()
    return "amber" if value == "yellow" else value


def forecast_value(raw: str) -> Any:
    key = re.sub(r"[^a-z]", "", raw.lower())
    return {"committed": "commit", "bestcase": "best_case", "omit": "omitted"}.get(key, key)


def score_value(raw: str) -> Any:
    value = int(raw)
    return value if 0 <= value <= 100 else REJECT


def tier_value(raw: str) -> Any:
    return {"1": "A", "2": "B", "3": "C"}.get(raw, raw.upper())


_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "bn": 1e9}


def amount_value(raw: str) -> Any:
    match = re.match(r"[$€£]?\s*([\d,]*\d(?:\.\d+)?)\s*([a-z]*)", raw.strip().lower())
    if not match:
        return REJECT
    number = float(match[1].replace(",", "")) * _MULTIPLIERS.get(match[2], 1)
    return int(number) if number.is_integer() else number


def probability_value(raw: str) -> Any:
    number = float(raw.rstrip("%").strip())
    # "90%", "90 percent" and "0.9" all mean the same; the record holds a fraction.
    fraction = number / 100 if number > 1 else number
    return round(fraction, 4) if 0 <= fraction <= 1 else REJECT


def text_value(raw: str) -> Any:
    return raw.strip(" '\"") or REJECT


def priority_value(raw: str) -> Any:
    value = raw.lower()
    if value in ("high", "urgent", "top", "highest"):
        return "HIGH"
    return "LOW" if value == "low" else "MEDIUM"
