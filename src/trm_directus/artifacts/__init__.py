"""Directus system artifacts as code: presets, dashboards, panels (and, later, access) in YAML files.

The mechanism (one for every system collection; issue 11 adds roles, policies and permissions):

- `kind.Kind`: one Directus system table, one module each (`presets.py`, `dashboards.py`,
  `panels.py`), all with the same verbs:
  `fetch` (rows in the kind's scope, keyed by natural key) → `normalize` (artifact form: no
  database ids, references by name, defaults filled in, JSON keys sorted) → `diff` (current vs
  desired: `{to_create, to_update, to_delete, unchanged}`) → `apply` (INSERT / UPDATE / DELETE).
- Natural keys, never database ids: a preset by (collection, bookmark), a dashboard by name, a
  panel by (dashboard name, panel name).
- `registry.FILES`: which kinds live in which committed file (`snapshots/ui.yaml`), in the order
  they are applied (a kind comes after the kinds it references; deletions run in reverse order).
- `artifact_file`: read (validated, file:line in every message) and write (canonical YAML) a file.
- `sync`: capture a live database into a file, plan and apply a file, and the boot step
  (entrypoint step 3, right after the schema apply) with its one-line summaries.

Everything goes through the database in one transaction per file, before Directus starts (boot)
or under a running Directus whose data cache is off (CACHE_ENABLED=false in every stack): the
admin app reads presets and dashboards fresh at login, so nothing is cached that could go stale.

Imports schema/, documents/ and the top-level helpers; imported by stacks/ (templates), gates/,
commands/ and tests.
"""
