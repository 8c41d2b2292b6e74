"""The SOP files name no vendor field or value: their front matter is CRM-neutral."""

from __future__ import annotations

import re

from connectors.hubspot.properties import NAMES as HS_NAMES
from connectors.salesforce.fields import NAMES
from tests.conftest import ROOT
from tests.emulators.salesforce_seed import STAGE_NAMES

SOPS = sorted((ROOT / "sop_library").glob("*.md"))


def front_matter(text: str) -> str:
    match = re.match(r"^---\n(.*?)\n---", text, re.S)
    assert match, "no front matter"
    return match[1]


def test_sop_front_matter_has_no_salesforce_or_hubspot_names() -> None:
    assert len(SOPS) >= 3
    neutral = {n for names in (*NAMES.values(), *HS_NAMES.values()) for n in names}
    vendor = {f for names in (*NAMES.values(), *HS_NAMES.values()) for f in names.values()}
    # Names that are also neutral names or plain words ("amount", "Name", "Website") say
    # nothing vendor-specific; CamelCase, snake or run-together vendor names do.
    vendor = {v for v in vendor if v.lower() not in neutral and not re.fullmatch("[A-Z][a-z]+", v)}
    vendor |= set(STAGE_NAMES.values())
    for sop in SOPS:
        head = front_matter(sop.read_text())
        words = set(re.findall(r"[A-Za-z_][\w.]*", head))
        assert not {w for w in words if w.startswith("hs_") or w.endswith("__c")}, sop.name
        assert not words & {"StageName", "dealstage"}, sop.name
        for name in vendor:
            assert not re.search(rf"\b{re.escape(name)}\b", head), (sop.name, name)
