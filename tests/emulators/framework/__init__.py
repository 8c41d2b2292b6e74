"""The emulator framework every vendor emulator (Anthropic, HubSpot, Salesforce) is built on."""

from tests.emulators.framework.clock import Clock, FakeClock, SystemClock
from tests.emulators.framework.faults import (
    Drop,
    Fault,
    FaultPlan,
    HttpError,
    RateLimited,
    RenderedFault,
    ServerError,
    SessionExpired,
    Slow,
    fault_status,
)
from tests.emulators.framework.http import Request, Response, Router, json_response
from tests.emulators.framework.ratelimit import Decision, Usage, Window, WindowLimiter
from tests.emulators.framework.server import Emulator, RecordedRequest, retry_after_value
from tests.emulators.framework.store import SAMPLE_PATH, RecordStore, StoredRecord, sample_load
from tests.emulators.framework.tls import ca_path, client_context, trusted_env

__all__ = [
    "SAMPLE_PATH",
    "Clock",
    "Decision",
    "Drop",
    "Emulator",
    "FakeClock",
    "Fault",
    "FaultPlan",
    "HttpError",
    "RateLimited",
    "RecordStore",
    "RecordedRequest",
    "RenderedFault",
    "Request",
    "Response",
    "Router",
    "ServerError",
    "SessionExpired",
    "Slow",
    "StoredRecord",
    "SystemClock",
    "Usage",
    "Window",
    "WindowLimiter",
    "ca_path",
    "client_context",
    "fault_status",
    "json_response",
    "retry_after_value",
    "sample_load",
    "trusted_env",
]
