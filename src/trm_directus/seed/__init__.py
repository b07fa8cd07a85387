"""Declarative seed data (seeds/*.yaml) loaded through Directus's REST API.

Imports rules/, course/, directus/, documents/, model/, and stacks/ (`seed --verify` on a throw-away
stack); imported by commands/, bench/ and tests.
"""
