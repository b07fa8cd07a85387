"""The CI gates that boot throw-away stacks: `drift` (`nox -s drift`: the committed artifacts applied to
a fresh stack and captured back, exit 2 on drift), `upgrade` (`nox -s upgrade`: the working tree booted
on a database built and filled by a base ref's artifacts), with `baseref` (a base ref's tree) and
`race_data` (race-day rows written the processor's way).

Near the top: imports stacks/, schema/, artifacts/, dbinit/, directus/, db/; imported by commands/,
bench/ and tests.
"""
