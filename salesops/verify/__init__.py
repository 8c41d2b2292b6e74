"""Verification of proposed results: schema, grounding, acceptance checks, escalations."""

from salesops.verify.grounding import evidence_lists, grounding_check, value_matches
from salesops.verify.report import CheckOutcome, VerificationReport
from salesops.verify.verifier import (
    JUDGE_UNAVAILABLE,
    Judge,
    activation_build,
    schema_outcomes,
    verify_result,
)

__all__ = [
    "JUDGE_UNAVAILABLE",
    "CheckOutcome",
    "Judge",
    "VerificationReport",
    "activation_build",
    "evidence_lists",
    "grounding_check",
    "schema_outcomes",
    "value_matches",
    "verify_result",
]
