"""A general runner for numbered SQL files with a checksum ledger, usable on any directory:
`discovery` (which files, in which phase), `ledger` (what was applied, the plan against the disk),
`runner` (apply under an advisory lock, with deadlines), `sqlsplit` (statements and their lines).

It knows nothing of this project's files: their settings and checks (TimescaleDB, `positions`) are
given to it by boot/db_init.py. Imports db/ and the top-level helpers; imported by boot/, schema/,
gates/, commands/, bench/ and tests.
"""
