"""Persistence for SOPs, runs and their audit trail."""

from salesops.models.batches import AgentBatch, AgentBatchItem
from salesops.models.events import CrmRecordMirror, WebhookEvent
from salesops.models.runs import Escalation, Run, RunStep, WriteBack
from salesops.models.sops import Fragment, Sop, SopVersion

__all__ = [
    "AgentBatch",
    "AgentBatchItem",
    "CrmRecordMirror",
    "Escalation",
    "Fragment",
    "Run",
    "RunStep",
    "Sop",
    "SopVersion",
    "WebhookEvent",
    "WriteBack",
]
