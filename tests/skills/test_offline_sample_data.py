"""Every shipped sample record through its offline skill: schema, grounding and checks hold."""

from __future__ import annotations

import pytest

from salesops.skills.registry import OFFLINE_SKILLS
from salesops.verify import activation_build, verify_result

SOPS = ("lead-qualification", "follow-up", "deal-review")


def _applies(spec, doc, now):
    if spec.applies_when is None:
        return True
    return spec.applies_when.evaluate(activation_build(doc, None, now)) is True


@pytest.mark.parametrize("sop_name", SOPS)
def test_offline_output_passes_schema_and_grounding_for_every_sample_record(
    sop_name, shipped_sops, sample_crm_documents
):
    spec = shipped_sops[sop_name]
    crm = sample_crm_documents
    checked = 0
    for record_id in crm.ids(spec.object):
        doc = crm.document(spec.object, record_id)
        output = OFFLINE_SKILLS[spec.offline](doc, crm.now, spec)
        report = verify_result(spec, output, doc, now=crm.now)
        structural = [o for o in report.outcomes if o.kind in ("schema", "grounding")]
        assert all(o.status == "passed" for o in structural), (record_id, structural)
        if _applies(spec, doc, crm.now):
            failed = [o for o in report.outcomes if o.kind == "acceptance" and o.status == "failed"]
            assert not failed, (record_id, failed)
        checked += 1
    assert checked >= 10


def test_sample_data_covers_every_tier_and_health(shipped_sops, sample_crm_documents):
    crm = sample_crm_documents
    tiers, healths = set(), set()
    for record_id in crm.ids("contact"):
        doc = crm.document("contact", record_id)
        tiers.add(OFFLINE_SKILLS["lead_qualification"](doc, crm.now, None)["tier"])
    for record_id in crm.ids("deal"):
        doc = crm.document("deal", record_id)
        healths.add(OFFLINE_SKILLS["deal_review"](doc, crm.now, None)["health"])
    assert tiers == {"A", "B", "C", "disqualified"}
    assert healths == {"green", "amber", "red"}
