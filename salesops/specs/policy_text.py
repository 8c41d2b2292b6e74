"""Detectors behind the company-policy CEL functions: commercial promises and outreach. Pure.

`commercial_promise` tells a promise or statement of commercial terms ("we can offer 20% off",
"two free months", "net 60", "cancel anytime") from text that only names the topic: a deferral
to the rep ("the rep will follow up on pricing") or a report of what the record shows ("asked
about pricing", "no activity mentions pricing"). `proposes_outreach` finds a suggestion to contact
a named person ("email Dana", "reach out to Marcus Lee") or a message addressed to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_AMOUNT = (
    r"(?:[$€£¥]\s?\d[\d,.]*(?:\s?[kKmM]\b)?"
    r"|\b\d[\d,.]*\s?[kKmM]?\s?(?:USD|EUR|GBP|CHF|SEK|NOK|DKK|AUD|CAD|NZD|dollars?|euros?|pounds?)\b)"
)
_PERCENT = r"\d+(?:[.,]\d+)?\s?(?:%|percent\b|per cent\b)"
_BENEFIT = r"(?:off|discount(?:ed|s)?|cheaper|rebates?|credits?|refund)"
_PERIOD = r"(?:months?|weeks?|quarters?|years?|seats?|licen[cs]es?)"

# A concrete price, discount, credit, free period, payment, contract or legal term: a promise,
# unless the sentence only reports it (what the buyer or a competitor said).
_CONCRETE = re.compile(
    "|".join(
        (
            # prices: "$49 per seat", "12,000 EUR a year", "costs $40k", "for just €500"
            _AMOUNT
            + r"\s?(?:/|per|a|an|each)\s?(?:seat|user|licen[cs]e|month|mo|year|yr|rep|annum)\b",
            r"\b(?:costs?|costing|priced|price[sd]?|pricing|fees?|charge[sd]?|pay|paying|save"
            r"|saving|savings)\b[^.!?\n]{0,15}?" + _AMOUNT,
            r"\b(?:only|just|starting at|starts at)\s" + _AMOUNT,
            _AMOUNT + r"\s?(?:in\s)?" + _BENEFIT + r"\b",
            # discounts: "20% off", "a discount of 15%"
            _PERCENT + r"\s?" + _BENEFIT + r"\b",
            r"\b(?:discount|rebate)\s(?:of|by|at)\s" + _PERCENT,
            # free periods and freebies: "two free months", "first month free", "on us"
            r"\bfree\s(?:for\s)?(?:\w+\s)?" + _PERIOD + r"\b",
            r"\bfree\s(?:trial|upgrade|onboarding|implementation|setup|set-up|period|pilot)\b",
            r"\b"
            + _PERIOD
            + r"\s(?:for\s)?(?:free|on us|on the house|free of charge|at no cost)\b",
            r"\bfirst\s(?:month|quarter|year|\w+\smonths?)\s(?:is\s|are\s)?(?:free|on us)\b",
            r"\bfree of charge\b|\bat no (?:extra |additional )?(?:cost|charge)\b",
            r"\bno (?:extra |additional )?charge\b|\bon the house\b|\bcomplimentary\b|\bfor free\b",
            # credits: "$500 in credits", "a service credit"
            r"\b(?:service|account|usage|billing|one[- ]time|\d+)\s+credits?\b|\bin credits\b",
            r"\bcredits?\s(?:of|worth)\b",
            # payment terms: "net 60", "quarterly invoicing", "pay in instalments"
            r"\bnet[- ]?(?:10|15|30|45|60|75|90|120)\b",
            r"\bpayment holidays?\b|\binstal?lments?\b",
            r"\b(?:pay|paying|billed|invoiced)\s(?:monthly|quarterly|annually|yearly|later"
            r"|in (?:arrears|advance|instal?lments))\b",
            r"\b(?:monthly|quarterly|annual|yearly|deferred)\s(?:billing|invoicing|payments?)\b",
            # contract and legal terms: "a two-year term", "cancel anytime", "accept your DPA"
            r"\b(?:\d+|thirty|sixty|ninety)[- ]day\s(?:termination|notice|cancellation|exit"
            r"|opt[- ]out"
            r"|money[- ]back|refund)\b|\btermination rights?\b",
            r"\b(?:accept|agree to|sign off on|add|include|remove|drop|waive|amend|change|grant"
            r"|offer|give|extend|cap|limit)\b(?:(?!\b(?:so|that|because|if|when|while)\b)[^.!?\n,;])"
            r"{0,20}?\b(?:DPA|MSA|NDA|data processing"
            r" agreement|order form|redlines?|liability|indemnit\w*|termination|warrant\w*|clauses?"
            r"|exclusivity|terms and conditions|contract terms)\b",
            r"\b(?:\d+|one|two|three|four|five|multi)[- ](?:year|month|yr)s?[- ](?:contract|term"
            r"|commitment|agreement|deal|licen[cs]e|subscription)\b",
            r"\b(?:minimum|min\.?)\s(?:term|commitment|contract)\b",
            r"\b(?:cancel|terminate)\s(?:at\s)?any\s?time\b",
            r"\bno (?:lock[- ]?in|long[- ]term contract)",
            r"\b(?:early\s)?(?:termination|exit|opt[- ]out)\sclause\b|\bauto[- ]?renew\w*\b",
            r"\bprice\s(?:lock|protection|guarantee|freeze|match(?:ing)?)\b",
            r"\b(?:money[- ]back|uptime|satisfaction)\sguarantee\b|\bSLAs?\b",
            r"\bservice[- ]level agreement\b|\brefunds?\b|\bliability cap\b|\bindemnif\w*",
            # offers: "we'll waive the setup fee", "match their price", "lock in this rate"
            r"\b(?:offer(?:ing)?|give|giving|extend(?:ing)?|throw(?:ing)? in|waiv(?:e|ing)|grant"
            r"|honou?r|lock(?:ing)? in|guarantee|match|beat|knock(?:ing)? off|shav(?:e|ing) off)\b"
            r"(?:(?!\babout\b|\bregarding\b|\bon\b)[^.!?\n]){0,25}?\b(?:discounts?|rebates?"
            r"|credits?|prices?|pricing|refunds?|fees?|upgrades?|trials?|terms)\b",
            r"\b(?:lock(?:ing)? in|honou?r|guarantee|match|beat)\b[^.!?\n]{0,25}?\brates?\b",
            r"\b(?:special|promotional|introductory|discounted|reduced|lower|better|best|founding"
            r"|early[- ]bird|locked)\s(?:offer|price|pricing|rate|deal)s?\b",
            r"\b(?:special offer|promo(?:tion)? codes?|coupons?|vouchers?)\b",
        )
    ),
    re.IGNORECASE,
)
# Words that name a commercial benefit: a hint at one is a promise unless only reported.
_BENEFIT_TOPIC = re.compile(
    r"\b(?:discount\w*|rebates?|quot(?:e|es|ed|ation)s?|cheaper|waiv\w+)\b", re.IGNORECASE
)
# Words that only name the topic: fine in a deferral to the rep as well as in a report.
_PRICE_TOPIC = re.compile(
    r"\b(?:pric(?:e|es|ed|ing)|licen[cs]e fees?|per[- ](?:seat|user)|(?:commercial|contract(?:ual)?"
    r"|payment|billing) (?:terms?|plans?|schedules?)|terms and conditions)\b",
    re.IGNORECASE,
)
_REPORT = re.compile(
    r"\b(?:ask(?:s|ed|ing)?|request(?:s|ed|ing)?|question(?:s|ed)?|inquir\w*|enquir\w*"
    r"|mention(?:s|ed|ing)?|visit(?:s|ed)?|view(?:s|ed)?|viewing|page|raised|brought up|came up"
    r"|discuss(?:ed|es|ion)?|interest(?:ed)?|wants? to know|wanted|looking for|concerns?"
    r"|objection|pushback|competitors?|shared|sent|presented|reviewed|covered|received"
    r"|says|said|wrote|writes|claim(?:s|ed)|tells|told|instruct\w*|ignored|untrusted)\b",
    re.IGNORECASE,
)
# "us" is left out: "a note asks us to give 50% off" reports an instruction, it does not offer.
_FIRST_OR_SECOND_PERSON = re.compile(r"\b(?:we|we'll|we're|I|I'll|I'm|our|you|your)\b", re.I)
_DEFERRAL = re.compile(
    r"\b(?:will|'ll|shall|going to|to|can|happy to)\s(?:\w+\s){0,2}?(?:follow up|come back"
    r"|get back|circle back|respond|answer|walk|go over|go through|talk|cover|share|send"
    r"|prepare|discuss|confirm|review)\b|\bdeal desk\b"
    r"|\b(?:call|meeting|chat|conversation|session)\s(?:about|on|regarding)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+")


def _reported(sentence: str) -> bool:
    """The sentence reports what someone else said or did, without our own offer in it."""
    return bool(_REPORT.search(sentence)) and not _FIRST_OR_SECOND_PERSON.search(sentence)


def commercial_promise(text: str) -> bool:
    """True when the text states or offers prices, discounts, credits, free periods or terms."""
    for sentence in _SENTENCE.split(text):
        if _CONCRETE.search(sentence):
            if not _reported(sentence):
                return True
            continue
        if _BENEFIT_TOPIC.search(sentence) and not _REPORT.search(sentence):
            return True
        if _PRICE_TOPIC.search(sentence) and not (
            _REPORT.search(sentence) or _DEFERRAL.search(sentence)
        ):
            return True
    return False


# Verbs that propose contacting someone. Nouns of the same spelling ("the call with Dana", "an
# email from Dana") are told apart by the word before the verb and the words after it.
_OUTREACH = (
    r"e-?mail|mail|call|phone|ring|text|message|ping|contact|reach out to|reach|follow up with"
    r"|follow-up with|write to|send|get in touch with|touch base with|reconnect with|re-engage"
    r"|nudge|chase|ask|invite|book|schedule|meet with|loop in|cc|remind"
)
_NOUN_BEFORE = re.compile(
    r"(?:\b(?:the|a|an|our|their|his|her|its|last|first|next|this|that|previous|recent|latest"
    r"|connected|inbound|outbound|missed|no|any|only|single|sole|primary|main|key|one)|'s|\u2019s)"
    r"\s*$",
    re.IGNORECASE,
)
_NOT_A_TARGET = re.compile(r"\b(?:from|by|of|about)\b|^\s*with\b", re.IGNORECASE)
_GREETING = r"\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)[\s,]+"


def proposes_outreach(text: str, name: str) -> bool:
    """True when `text` suggests contacting `name` ("email Dana") or is addressed to them."""
    name = name.strip()
    if not name:
        return False
    flags = re.IGNORECASE if "@" in name else 0  # names are proper nouns; addresses are not
    target = rf"(?<![\w@.-]){re.escape(name)}(?![\w@-]|['\u2019]s\b)"
    if re.match(rf"(?i:{_GREETING}){target}", text, flags):
        return True
    verbs = re.compile(rf"(?i:\b(?:{_OUTREACH})\b)([^.!?;\n]{{0,40}}?){target}", flags)
    for match in verbs.finditer(text):
        before = text[: match.start()]
        if _NOUN_BEFORE.search(before) or _NOT_A_TARGET.search(match.group(1)):
            continue
        return True
    return False


def _get(mapping: Mapping[str, Any], key: str) -> Any:
    # celpy's maps raise KeyError from .get() for a missing key.
    return mapping[key] if key in mapping else None  # noqa: SIM401


def _truthy(value: Any) -> bool:
    # celpy passes BoolType (an int); the Rust runtime passes bool.
    return value is not None and bool(value)


def _names(person: Mapping[str, Any]) -> Iterable[str]:
    first, last = _get(person, "first_name"), _get(person, "last_name")
    parts = [str(p).strip() for p in (first, last) if p and str(p).strip()]
    if len(parts) == 2:
        yield " ".join(parts)
    yield from parts
    if _get(person, "email"):
        yield str(person["email"]).strip()


def opted_out_people(record: Any) -> list[str]:
    """Names and addresses of the opted-out contacts in a record document.

    The record itself when it is a contact with `email_opt_out`, and its related contacts with it.
    """
    if not isinstance(record, Mapping):
        return []
    people: list[Mapping[str, Any]] = []
    if _get(record, "object") == "contact" and _truthy(_get(record, "email_opt_out")):
        people.append(record)
    contacts = _get(record, "contacts")
    if isinstance(contacts, list):
        people += [
            c for c in contacts if isinstance(c, Mapping) and _truthy(_get(c, "email_opt_out"))
        ]
    return list(dict.fromkeys(name for person in people for name in _names(person)))
