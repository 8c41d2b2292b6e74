"""Persistence for SOPs, runs and their audit trail."""

from salesops.models.batches import AgentBatch, AgentBatchItem
from salesops.models.connections import Connection, SyncState
from salesops.models.evals import EvalCase, EvalPublishOverride, EvalResult, EvalRun, Verdict
from salesops.models.events import CrmRecordMirror, WebhookEvent
from salesops.models.ratelimits import RateLimitState
from salesops.models.runs import Escalation, Run, RunStep, WriteBack
from salesops.models.sops import Fragment, Sop, SopVersion

__all__ = [
    "AgentBatch",
    "AgentBatchItem",
    "Connection",
    "CrmRecordMirror",
    "Escalation",
    "EvalCase",
    "EvalPublishOverride",
    "EvalResult",
    "EvalRun",
    "Fragment",
    "RateLimitState",
    "Run",
    "RunStep",
    "Sop",
    "SopVersion",
    "SyncState",
    "Verdict",
    "WebhookEvent",
    "WriteBack",
]
