"""Data models scripted through Directus's REST API (then captured as snapshots/schema.yaml)."""
