"""Stacks: PostgreSQL (+PostGIS, +TimescaleDB where it exists) + Redis + Directus, native or compose.

Imports services/, artifacts/, schema/, backup/, directus/, db/ (the boot steps run in the entrypoint's
processes, they are not imported); imported by seed/ (verify), gates/, commands/, bench/ and tests.
"""
