"""Pure planning of the writes an SOP allows for a verified result."""

from salesops.writeback.plan import PlannedWrite, business_days_add, writes_plan

__all__ = ["PlannedWrite", "business_days_add", "writes_plan"]
