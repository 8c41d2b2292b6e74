"""The injection detector's core vocabulary: the Rule type and the signals. Pure Python.

Patterns run on lower-cased text (cheaper than re.I), so they are written in lower case.
Signals are text addressed to the AI or telling it to drop or reveal its rules; the asks
(commands to change a value) are in salesops/guard/asks.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Convert = Callable[[str], Any] | None


@dataclass(frozen=True)
class Rule:
    """A pattern, the ask kind it yields ("" for none), and words it cannot match without."""

    kind: str
    needs: tuple[str, ...]  # lower-case words (or symbols) that must occur: a cheap gate
    pattern: re.Pattern[str]
    convert: Convert = None
    words: frozenset[str] = field(init=False)
    symbols: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", frozenset(n for n in self.needs if n.isalpha()))
        object.__setattr__(self, "symbols", tuple(n for n in self.needs if not n.isalpha()))

    def applies(self, lowered: str, words: set[str]) -> bool:
        """Whether the text has a needed word; set lookups, so gating 40 rules stays cheap."""
        return not self.words.isdisjoint(words) or any(map(lowered.__contains__, self.symbols))


WORD = re.compile(r"[a-z]+")


def words_of(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Inside one clause: no sentence or clause punctuation, no line break.
GAP = r"[^.!?:;\n]"

COMMAND_POSITION = re.compile(
    r"(?:^|[.!?:;,\n()\[\]\"'>*•-]|\b(?:please|pls|kindly|and|then|now|also|just|immediately"
    r"|simply|you\s+(?:must|should|shall|will|need\s+to|have\s+to|are\s+to|can)|you'll))\s*$",
)
NEGATED = re.compile(
    r"(?:\bnot|n't|\bnever|\bno\s+need\s+to|\bavoid|\bwithout|\bstop)\s+(?:\w+\s+){0,2}$"
)

# --- Signals: text addressed to the AI, or telling it to drop or reveal its rules. -----------
_AI = (
    r"(?:ai|a\.i\.|assistants?|bots?|chatbots?|llms?|language\s+models?|ai\s+models?"
    r"|ai\s+agents?|copilots?|gpt|chatgpt|claude)"
)
ADDRESS = [
    re.compile(
        r"\bsystem\s+(?:note|prompt|message|instructions?|override|directive|command|notice"
        r"|alert)s?\s*(?:to\b|for\b|:|-|\]|>)",
    ),
    re.compile(r"\bsystem\s+prompt\b"),
    re.compile(r"[\[<{]\s*/?\s*(?:system|sys|inst)\s*[\]>}]|<\|[a-z_]+\|>"),
    re.compile(
        r"\b(?:note|message|instructions?|memo|attention|reminder|warning|notice|command)\s+"
        r"(?:to|for)\s+(?:the\s+|any\s+|all\s+|our\s+|your\s+)?" + _AI + r"\b",
    ),
    re.compile(
        r"\b(?:dear|hey|hi|hello|attention|attn)\s*[,:]?\s+(?:ai|a\.i\.|assistant|bot|chatbot"
        r"|llm|gpt|chatgpt|copilot)\b",
    ),
    re.compile(r"\b(?:ai|a\.i\.)\s+(?:assistant|agent|model|system|bot)s?\s*:"),
    re.compile(
        r"\b(?:as|since)\s+(?:the|an|a|our|my)\s+(?:ai|a\.i\.|assistant|language\s+model|llm)"
        r"(?:\s+(?:assistant|agent|model))?\s*,?\s+you\s+(?:must|should|will|have\s+to|need\s+to"
        r"|are\s+(?:required|instructed|expected))\b",
    ),
    re.compile(
        r"\b(?:if\s+you\s+are|if\s+you're|you\s+are|you're)\s+(?:an?\s+)?(?:ai|a\.i\.|language"
        r"\s+model|llm|chatbot|ai\s+assistant|ai\s+agent)\b",
    ),
    re.compile(
        r"\b(?:any|all|every)\s+(?:ai|a\.i\.|llms?|language\s+models?|bots?|assistants?)\s+"
        r"(?:reading|processing|parsing|summari[sz]ing|reviewing|that\s+reads)\b",
    ),
    re.compile(r"\b(?:jailbreak|developer\s+mode|dan\s+mode|god\s+mode|do\s+anything\s+now)\b"),
]
_RULES = (
    r"(?:rules?|instructions?|prompts?|guidelines?|polic(?:y|ies)|constraints?|directives?"
    r"|guardrails?|programming|restrictions?)"
)
OVERRIDE = [
    re.compile(
        r"\b(?:ignore|disregard|forget|override|bypass)\b\s+(?:(?:all|any|of|your|the|previous"
        r"|prior|above|earlier|preceding|these|those|existing|original|standard|system|company"
        r"|safety|my|its|every|other|current)\s+){0,4}(?:(?:(?<=your )|(?<=all )|(?<=any )"
        r"|(?<=previous )|(?<=prior )|(?<=above )|(?<=earlier ))\w+\s+)?" + _RULES + r"\b",
    ),
    re.compile(
        r"\b(?:do\s+not|don't|no\s+need\s+to|stop)\s+(?:follow|obey|apply)(?:ing)?\s+(?:your|the"
        r"|any|these|those)\s+" + _RULES + r"\b",
    ),
    re.compile(r"\b(?:new|updated|revised|real|actual)\s+(?:system\s+)?instructions?\s*[:\-]"),
    re.compile(
        r"\byou\s+are\s+now\s+(?:an?\s+|the\s+)?(?:\w+\s+){0,3}?(?:ai|assistant|bot|model|agent"
        r"|mode|persona|character|unrestricted|jailbroken)\b",
    ),
    re.compile(
        r"\b(?:from\s+now\s+on|henceforth|going\s+forward)\s*,?\s+you\s+(?:are|will|must|should"
        r"|may)\s+(?:not\s+)?(?:ignore|always|never|act|respond|answer|rate|score|mark|set|only)\b",
    ),
    re.compile(r"\b(?:pretend\s+(?:that\s+)?you\s+are|role-?play\s+as)\b"),
]
REVEAL = [
    re.compile(
        r"\b(?:reveal|print|repeat|output|disclose|leak|dump|recite|expose)\s+(?:me\s+|us\s+)?"
        r"(?:all\s+)?(?:of\s+)?your\s+(?:(?:full|hidden|original|initial|secret|internal|system"
        r"|exact|entire)\s+){0,2}(?:prompts?|instructions|rules|guidelines|configuration"
        r"|system\s+message)\b",
    ),
    re.compile(
        r"\b(?:reveal|print|repeat|output|disclose|leak|dump|recite|expose|show|tell|share|send"
        r"|give|email|what\s+(?:is|are))\s+(?:me\s+|us\s+)?(?:your|the)\s+(?:system|hidden"
        r"|initial|original|secret|internal)\s+(?:prompts?|instructions|message|rules)\b",
    ),
]
_AI_NEEDS = words_of("ai a.i. assistant assistants bot bots chatbot chatbots llm llms model models")
_AI_NEEDS += words_of("agent agents copilot copilots gpt chatgpt claude")
_ADDRESS_NEEDS = [words_of("system"), words_of("system"), words_of("[ < {"), _AI_NEEDS, _AI_NEEDS,
                  words_of("ai a.i."), _AI_NEEDS, _AI_NEEDS, _AI_NEEDS,
                  words_of("jailbreak mode anything")]  # fmt: skip
_OVERRIDE_NEEDS = [
    words_of("ignore disregard forget override bypass"),
    words_of("follow obey apply following obeying applying"),
    words_of("instruction instructions"),
    words_of("now"),
    words_of("now henceforth forward"),
    words_of("pretend roleplay role"),
]
_REVEAL_NEEDS = [words_of("reveal print repeat output disclose leak dump recite expose"),
                 words_of("system hidden initial original secret internal")]  # fmt: skip
SIGNALS: list[Rule] = (
    [Rule("", n, x) for n, x in zip(_ADDRESS_NEEDS, ADDRESS, strict=True)]
    + [Rule("ignore_rules", n, x) for n, x in zip(_OVERRIDE_NEEDS, OVERRIDE, strict=True)]
    + [Rule("reveal_instructions", n, x) for n, x in zip(_REVEAL_NEEDS, REVEAL, strict=True)]
)
