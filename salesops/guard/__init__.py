"""Guards on untrusted CRM text, shared by the record document, the engines and the verifier."""

from salesops.guard.injection import Ask, Finding, detect, scan_text, untrusted_activity_ids

__all__ = ["Ask", "Finding", "detect", "scan_text", "untrusted_activity_ids"]
