"""Benchmarks, run by hand (never by CI as pass/fail timing). Results: docs/benchmarks.md."""
