"""Data models scripted through Directus's REST API (then captured as snapshots/schema.yaml).

Imports directus/ only (and console); imported by course/, rules/, seed/, commands/ and tests.
"""
