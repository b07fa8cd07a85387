"""An event's timing rules as data: `rules_file` (the rules YAML: read and validate, file:line in every
problem), `load` (rules-import: write them through the REST API, superseding what they replace),
`seeding` (the `rules:` reference of a seed event).

Imports course/ (radius defaults), directus/, documents/, model/; imported by seed/, commands/,
bench/ and tests. It does not import seed/.
"""
