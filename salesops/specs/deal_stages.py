"""Deal-stage facts from the deal-risk taxonomy, in one place: which stages are late in the
cycle and how many days a deal normally spends in each. The SOP expressions (late_stage,
stage_norm_days) and the offline deal_review skill both read them. Pure Python."""

from __future__ import annotations

import re
from typing import Any

# Stage keys are lower-case letters and digits only: "Negotiation/Review" -> "negotiationreview".
LATE_STAGES = frozenset(
    {"decisionmakerboughtin", "contractsent", "proposalpricequote", "negotiationreview"}
)
MID_STAGES = frozenset(
    {"presentationscheduled", "valueproposition", "iddecisionmakers", "perceptionanalysis"}
)
STAGE_NORM_DAYS = {
    "appointmentscheduled": 14,
    "qualifiedtobuy": 21,
    "presentationscheduled": 21,
    "decisionmakerboughtin": 30,
    "contractsent": 14,
}
DEFAULT_NORM_DAYS = 30


def stage_key(stage: Any) -> str:
    """Normalise a stage name for comparison ("Negotiation/Review" -> "negotiationreview")."""
    return re.sub(r"[^a-z0-9]", "", str(stage or "").lower())
