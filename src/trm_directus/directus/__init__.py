"""Directus itself, as the toolchain talks to it: `api` (the REST client), `cli` (Directus's own CLI in
a subprocess, with deadlines), `extensions` (build and check extensions/), `writer` (rows written by
natural key in journaled batches with an undo: what the seed and rules-import write with).

Imports db/, services/ (Node, private directories) and the top-level helpers; imported by every
package that reads or writes through Directus (boot, model, schema, artifacts, course, rules, seed,
stacks, gates, bench, commands). It imports none of them.
"""
