"""Timing (domain.md "Phase 3"): an event's rules as data (rules-import) and the timing benchmarks."""
