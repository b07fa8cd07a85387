"""Schema as code: read/write Directus snapshots, diff them, guard their application, detect drift."""
