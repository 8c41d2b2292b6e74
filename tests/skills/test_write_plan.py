"""Write-back planning sees the same variables as the checks (texts included)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from salesops.skills.offline import deal_review
from salesops.specs import compile_expression
from salesops.specs.scope import ExpressionScope
from salesops.writeback import writes_plan

NOW = datetime(2025, 6, 11, 10, 0, tzinfo=UTC)


def test_a_write_back_condition_on_texts_is_evaluated_like_a_check(
    shipped_sops, sample_crm_documents
):
    spec = shipped_sops["deal-review"]
    doc = sample_crm_documents.document("deal", "d-004")
    result = deal_review(doc, NOW, spec)
    summary_names_deal = compile_expression(
        "texts.exists(t, t.path == 'summary' && t.text.contains(record.name))",
        scope=ExpressionScope.for_sop("deal", spec.output),
        source="test",
        field="write_back.0.when",
    )
    rules = list(spec.write_back)
    rules[0] = dataclasses.replace(rules[0], when=summary_names_deal)
    variant = dataclasses.replace(spec, write_back=tuple(rules))
    result["summary"] = f"{doc['name']}: close date passed; red until a new date is agreed."
    kinds = [w.kind for w in writes_plan(variant, result, doc, now=NOW)]
    assert "set_property" in kinds
    result["summary"] = "Close date passed; red until a new date is agreed."
    kinds = [w.kind for w in writes_plan(variant, result, doc, now=NOW)]
    assert "set_property" not in kinds
