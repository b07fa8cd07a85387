"""PostgreSQL as every part of the toolchain reaches it: `settings` (DB_* variables → DSN, masking,
waiting for the server), `locks` (the advisory locks and who holds them), `rowsums` (a fingerprint of
the race data, per table, that upgrades and restores must keep).

Low in the tree: imports only the top-level helpers (console, errors, deadlines); any package may
import it.
"""
