"""Schema as code: read/write Directus snapshots, diff them, guard their application, detect drift.

Imports dbinit/ (tables db-init owns), directus/, documents/; imported by artifacts/, stacks/, gates/,
commands/, bench/ and tests. It never starts a stack (that is gates/).
"""
