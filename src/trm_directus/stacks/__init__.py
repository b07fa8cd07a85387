"""Stacks: PostgreSQL (+PostGIS, +TimescaleDB where it exists) + Redis + Directus, native or compose."""
