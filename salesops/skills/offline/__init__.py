"""Deterministic skills the `rules` engine runs without a model, one per prebuilt SOP."""

from salesops.skills.offline.deal_review import deal_review
from salesops.skills.offline.follow_up import follow_up
from salesops.skills.offline.lead_qualification import lead_qualification

__all__ = ["deal_review", "follow_up", "lead_qualification"]
