"""Loopback emulators of external APIs, driven by the real client libraries in tests."""
