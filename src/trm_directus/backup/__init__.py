"""Continuous backups of a stack's database with pgBackRest, point-in-time restore, and uploads."""
