"""The boot pipeline of image/entrypoint.sh and what its steps need: `steps` (boot-steps: preflight,
the boot lock, waiting for Redis, deadlines), `bootstrap` (Directus's own bootstrap, idempotent),
`redis_wait` (Directus exits without Redis: wait for it first), `db_init` (this project's db-init:
the generic runner of dbinit/ with the TimescaleDB setting and the `positions` invariant).

Imports db/, dbinit/, directus/ and the top-level helpers; imported by commands/, stacks/ (through
the commands) and tests. Nothing below it (db, dbinit, directus, services) may import it.
"""
