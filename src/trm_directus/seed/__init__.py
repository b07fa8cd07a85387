"""Declarative seed data (seeds/*.yaml) loaded through Directus's REST API."""
