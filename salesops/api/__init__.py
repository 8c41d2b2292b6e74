"""REST API (DRF)."""
