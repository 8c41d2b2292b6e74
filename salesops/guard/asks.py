"""The asks of the injection detector: commands to change a pipeline value. Pure Python.

Patterns run on lower-cased text (cheaper than re.I), so they are written in lower case.
Field asks are commands ("set the score to 100") recognised only in command position (start of a
clause, after "please", "and", "you must", ...) and not negated, so statements such as "the
stage moved to closed won" or "do not mark it won yet" are not asks.
"""

from __future__ import annotations

import re

from salesops.guard.patterns import GAP, SIGNALS, Convert, Rule, words_of
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
            + GAP
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
            + GAP
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
            + GAP
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
            + GAP
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
            + GAP
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
            + GAP
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
            r"|rank|score|bump|promote)\b" + GAP + r"{0,30}?\btier\s*(?:to|as|=|of|:)?\s*" + _TIER,
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
            + GAP
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
            + GAP
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
            + GAP
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
            + GAP
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
            + GAP
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
            + GAP
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
        words_of("send forward email mail contact call phone text ping reach write notify"),
    ),
    _field(
        "tier",
        re.compile(
            r"\b(?:disqualify|reject)\s+(?:this|the|her|him|them|it)\b|\bmark\b"
            + GAP
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
