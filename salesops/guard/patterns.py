"""The vocabulary of the injection detector: precompiled patterns and value parsers. Pure Python.

Patterns run on lower-cased text (cheaper than re.I), so they are written in lower case.
Field asks are commands ("set the score to 100") recognised only in command position (start of a
clause, after "please", "and", "you must", ...) and not negated, so statements such as "the
stage moved to closed won" or "do not mark it won yet" are not asks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from salesops.guard.values import (
    amount_value,
    forecast_value,
    health_value,
    priority_value,
    probability_value,
    score_value,
    stage_value,
    text_value,
    tier_value,
)

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


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Inside one clause: no sentence or clause punctuation, no line break.
_GAP = r"[^.!?:;\n]"

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
_AI_NEEDS = _words("ai a.i. assistant assistants bot bots chatbot chatbots llm llms model models")
_AI_NEEDS += _words("agent agents copilot copilots gpt chatgpt claude")
_ADDRESS_NEEDS = [_words("system"), _words("system"), _words("[ < {"), _AI_NEEDS, _AI_NEEDS,
                  _words("ai a.i."), _AI_NEEDS, _AI_NEEDS, _AI_NEEDS,
                  _words("jailbreak mode anything")]  # fmt: skip
_OVERRIDE_NEEDS = [_words("ignore disregard forget override bypass"),
                   _words("follow obey apply following obeying applying"),
                   _words("instruction instructions"), _words("now"),
                   _words("now henceforth forward"), _words("pretend roleplay role")]  # fmt: skip
_REVEAL_NEEDS = [_words("reveal print repeat output disclose leak dump recite expose"),
                 _words("system hidden initial original secret internal")]  # fmt: skip
SIGNALS: list[Rule] = (
    [Rule("", n, x) for n, x in zip(_ADDRESS_NEEDS, ADDRESS, strict=True)]
    + [Rule("ignore_rules", n, x) for n, x in zip(_OVERRIDE_NEEDS, OVERRIDE, strict=True)]
    + [Rule("reveal_instructions", n, x) for n, x in zip(_REVEAL_NEEDS, REVEAL, strict=True)]
)


# --- Field asks: commands to change a pipeline value. ----------------------------------------
_END = (
    r"(?=\s*(?:[.,;!?)\n]|$)|\s+(?:and|now|immediately|today|please|asap|with|directly"
    r"|right\s+away)\b)"
)
_STAGES = (
    r"closed?[\s_-]*won|closed?[\s_-]*lost|contract[\s_-]*sent|decision[\s_-]*maker[\s_-]*bought"
    r"[\s_-]*in|negotiation|presentation[\s_-]*scheduled|qualified[\s_-]*to[\s_-]*buy"
    r"|appointment[\s_-]*scheduled|won|lost"
)
_TIER = r"['\"]?([abc123])(?![\w-])(?!\s+(?!and\b|with\b|please\b|now\b|today\b|asap\b)[a-z])"


def _field(kind: str, pattern: re.Pattern[str], convert: Convert, needs: tuple[str, ...]) -> Rule:
    return Rule(kind, needs, pattern, convert)


FIELD_ASKS: list[Rule] = [
    _field(
        "stage",
        re.compile(
            r"\b(?:mark|set|move|change|update|flag|record|log|close|put|switch|make|book)\b"
            + _GAP
            + r"{0,40}?\b(?:(closed?[\s_-]*(?:won|lost))\b|(?:as|to)\s+(?:a\s+)?(won|lost|win"
            r"|loss)\b)",
        ),
        stage_value,
        ("won", "lost", "win", "loss", "closedwon", "closedlost"),
    ),
    _field(
        "stage",
        re.compile(
            r"\bmark\s+(?:(?:this|the|that|it|our)\s+)?(?:(?:deal|opportunity|opp|account)\s+)?"
            r"(?:as\s+)?(won|lost)\b(?!\s+(?:deals?|opportunit|opps?|leads?|accounts?|reasons?))",
        ),
        stage_value,
        ("won", "lost"),
    ),
    _field(
        "stage",
        re.compile(
            r"\b(?:set|change|update|move|advance|push|progress|bump|switch|put)\b"
            + _GAP
            + r"{0,25}?\bstage\s*(?:to|=|as|into|:)\s*['\"]?([a-z][a-z /_-]{1,30}?)['\"]?"
            + _END,
        ),
        stage_value,
        ("stage",),
    ),
    _field(
        "stage",
        re.compile(
            r"\b(?:move|advance|push|progress)\s+(?:this|the|that|it)\s*(?:deal|opportunity|opp)?"
            r"\s+(?:forward\s+)?(?:to|into)\s+(?:the\s+)?(?:stage\s+)?(" + _STAGES + r")\b",
        ),
        stage_value,
        ("won", "lost", "sent", "negotiation", "scheduled", "bought", "qualified", "closedwon"),
    ),
    _field(
        "health",
        re.compile(
            r"\b(?:set|change|update|mark|rate|make|flag|report|give|put|keep|switch|turn|score)\b"
            + _GAP
            + r"{0,30}?\bhealth\b(?:\s+(?:status|rating|score))?\s*(?:to|as|=|at|of|:)?\s*['\"]?"
            r"(green|amber|yellow|red)\b",
        ),
        health_value,
        ("health",),
    ),
    _field(
        "health",
        re.compile(
            r"\b(?:rate|mark|flag|label|score|call|report)\s+(?:this|the|it)\s*(?:deal|opportunity"
            r"|opp|account)?\s+(?:as\s+)?(green|amber|yellow|red)\b",
        ),
        health_value,
        ("green", "amber", "yellow", "red"),
    ),
    _field(
        "forecast_category",
        re.compile(
            r"\b(?:set|change|update|move|put|mark|categori[sz]e|report|keep|classify|switch|call"
            r"|make)\b"
            + _GAP
            + r"{0,30}?\b(?:forecast(?:[\s_-]*category)?|category)\s*(?:to|as|=|at|in|into|:)\s*"
            r"['\"]?(commit(?:ted)?|best[\s_-]*case|pipeline|omit(?:ted)?)\b",
        ),
        forecast_value,
        ("forecast", "category"),
    ),
    _field(
        "forecast_category",
        re.compile(
            r"\b(?:forecast|put|move|pull)\s+(?:this|that|it|the)(?:\s+(?:deal|opportunity|opp))?"
            r"\s+(?:as|at|in|into|to)\s+(?:the\s+)?(commit|best[\s_-]*case|pipeline|omitted)\b",
        ),
        forecast_value,
        ("commit", "case", "pipeline", "omitted"),
    ),
    _field(
        "score",
        re.compile(
            r"\b(?:set|change|update|raise|increase|bump|give|make|put|push|boost|lift|assign"
            r"|mark|rate|score)\b"
            + _GAP
            + r"{0,40}?\bscore\b[^.!?:;\n\d]{0,15}?(?:(?:to|of|=|at|as|:)\s*)?(\d{1,3})"
            r"(?![\d%])",
        ),
        score_value,
        ("score",),
    ),
    _field(
        "score",
        re.compile(
            r"\bscore\s+(?:this|the|her|him|them|it)\s*(?:lead|contact)?\s+(?:at|as)?\s*(\d{1,3})"
            r"(?![\d%])",
        ),
        score_value,
        ("score",),
    ),
    _field(
        "score",
        re.compile(
            r"\b(?:give|set|make|assign|put)\b"
            + _GAP
            + r"{0,30}?\b(?:max(?:imum)?|perfect|full|top|highest)\s+score\b",
        ),
        lambda _: 100,
        ("score",),
    ),
    _field(
        "score",
        re.compile(
            r"\b(?:raise|increase|bump|boost|lift|inflate|max\s+out)\s+(?:the\s+|this\s+|their\s+"
            r"|its\s+|his\s+|her\s+)?(?:lead\s+)?score\b",
        ),
        None,
        ("score",),
    ),
    _field(
        "tier",
        re.compile(
            r"\b(?:set|change|update|make|mark|give|assign|put|move|rate|qualify|upgrade|classify"
            r"|rank|score|bump|promote)\b" + _GAP + r"{0,30}?\btier\s*(?:to|as|=|of|:)?\s*" + _TIER,
        ),
        tier_value,
        ("tier",),
    ),
    _field(
        "tier",
        re.compile(
            r"\b(?:qualify|classify|rate|rank)\s+(?:this|the|her|him|them|it)\s*(?:lead|contact)?"
            r"\s+as\s+(?:tier\s+)?" + _TIER,
        ),
        tier_value,
        ("qualify", "classify", "rate", "rank"),
    ),
    _field(
        "tier",
        re.compile(
            r"\b(?:mark|set|make|flag|treat|tag|qualify)\b"
            + _GAP
            + r"{0,25}?\bas\s+(?:an?\s+)?(?:qualified|hot|sql|sales[\s-]qualified|high[\s-]intent"
            r"|top[\s-]tier)\b",
        ),
        lambda _: "A",
        ("qualified", "hot", "sql", "intent", "tier"),
    ),
    _field(
        "amount",
        re.compile(
            r"\b(?:set|change|update|raise|increase|lower|reduce|bump|make|adjust|put|double"
            r"|triple)\b"
            + _GAP
            + r"{0,25}?\b(?:amount|deal\s+(?:value|size)|contract\s+value|acv|arr|value\s+of\s+"
            r"(?:this|the)\s+(?:deal|opportunity))\b[^.!?:;\n\d$€£]{0,12}?(?:to|=|at|of|:)\s*"
            r"([$€£]?\s?\d[\d,]*(?:\.\d+)?\s*(?:k|mm|m|million|thousand|bn)?)(?![a-z])",
        ),
        amount_value,
        ("amount", "value", "size", "acv", "arr"),
    ),
    _field(
        "amount",
        re.compile(
            r"\b(?:raise|increase|bump|double|triple|inflate)\s+(?:the\s+|this\s+)?(?:deal\s+)?"
            r"(?:amount|deal\s+value|deal\s+size)\b",
        ),
        None,
        ("amount", "value", "size"),
    ),
    _field(
        "probability",
        re.compile(
            r"\b(?:set|change|update|raise|increase|bump|make|put|push)\b"
            + _GAP
            + r"{0,25}?\b(?:probability|win\s+(?:rate|chance|likelihood|probability)|likelihood"
            r"|chance|confidence)\b[^.!?:;\n\d]{0,12}?(?:to|=|at|of|:)\s*(\d{1,3}(?:\.\d+)?\s*%?)",
        ),
        probability_value,
        ("probability", "likelihood", "chance", "confidence"),
    ),
    _field(
        "close_date",
        re.compile(
            r"\b(?:set|change|update|move|push|pull|bring|make)\b"
            + _GAP
            + r"{0,20}?\bclose[\s_-]?date\b[^.!?;\n]{0,10}?\b(?:to|=|as)\s*([^,;!?\n]{1,30}?)"
            r"(?=\s*(?:[,;!?\n]|\.\s|\.$|$)|\s+(?:and|please|now|immediately)\b)",
        ),
        text_value,
        ("close",),
    ),
    _field(
        "priority",
        re.compile(
            r"\b(?:set|change|update|make|mark|raise|bump|give|flag|escalate|put)\b"
            + _GAP
            + r"{0,25}?\bpriority\b\s*(?:to|as|=|of|at|:)?\s*['\"]?(high|urgent|top|highest"
            r"|medium|normal|low)\b",
        ),
        priority_value,
        ("priority",),
    ),
    _field(
        "priority",
        re.compile(
            r"\b(?:set|mark|flag)\b"
            + _GAP
            + r"{0,20}?\b(?:as\s+)?(?:an?\s+)?(high|top|urgent)[\s-]priority\b",
        ),
        priority_value,
        ("priority",),
    ),
]

# --- Weak asks: recorded only in a text already flagged by a signal or a field ask. ----------
_TARGET = r"([\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d\s().-]{6,}\d|[^.,;!?\n]{2,60}?" + _END + ")"
WEAK_ASKS: list[Rule] = [
    _field(
        "conceal",
        re.compile(
            r"\b(?:do\s+not|don't|never|without)\s+(?:mention(?:ing)?|report(?:ing)?"
            r"|flag(?:ging)?|disclos(?:e|ing)|reveal(?:ing)?|log(?:ging)?|not(?:e|ing)|cit(?:e|ing)"
            r"|refer(?:ring)?\s+to|tell(?:ing)?\s+(?:anyone|anybody|the\s+user|the\s+rep)\s+about)"
            r"\s+(?:this|these|the|that)\s+(?:note|message|instructions?|text|comment|request"
            r"|email|update)s?\b|\bkeep\s+this\s+(?:secret|hidden|between\s+us)\b",
        ),
        None,
        ("not", "never", "without", "keep", "don"),
    ),
    _field(
        "suppress_risks",
        re.compile(
            r"\b(?:do\s+not|don't|never)\s+(?:flag|mention|list|report|raise|include)\s+(?:any\s+"
            r"|the\s+)?(?:risks?|issues?|concerns?|problems?|red\s+flags?)\b",
        ),
        None,
        ("not", "never", "don"),
    ),
    _field(
        "contact",
        re.compile(
            r"\b(?:(?:send|forward|e-?mail|mail|post)\b[^.!?;\n]{0,40}?\bto|e-?mail|contact|call"
            r"|phone|text|ping|reach\s+out\s+to|write\s+to|notify)\s+" + _TARGET,
        ),
        text_value,
        _words("send forward email mail contact call phone text ping reach write notify"),
    ),
    _field(
        "tier",
        re.compile(
            r"\b(?:disqualify|reject)\s+(?:this|the|her|him|them|it)\b|\bmark\b"
            + _GAP
            + r"{0,20}?\bas\s+(?:disqualified|unqualified|junk|spam)\b",
        ),
        lambda _: "disqualified",
        ("disqualify", "reject", "mark"),
    ),
    _field(
        "amount",
        re.compile(
            r"\bclosed?[\s_-]*won\s+(?:at|for|with)\s+(?:an?\s+amount\s+of\s+)?([$€£]?\s?\d[\d,]*"
            r"(?:\.\d+)?\s*(?:k|mm|m|million|thousand|bn)?)(?![a-z])",
        ),
        amount_value,
        ("won",),
    ),
    _field("ignore_rules", re.compile(r"\byou\s+are\s+now\b"), None, ("now",)),
]

# Words (and symbols) without which no signal or field ask can match: the first, cheapest gate.
STRONG_WORDS: frozenset[str] = frozenset().union(*(r.words for r in SIGNALS + FIELD_ASKS))
STRONG_SYMBOLS: tuple[str, ...] = tuple({s for r in SIGNALS + FIELD_ASKS for s in r.symbols})
