"""Continuous backups of a stack's database with pgBackRest, point-in-time restore, and uploads.

Imports services/ (the cluster) and db/; imported by stacks/ (archiving of a persistent stack, restore
--into in stacks/restored.py), commands/, bench/ and tests. It does not import stacks/.
"""
