"""What the document loaders share: `yamlio` (strict YAML with line numbers, libyaml when it is safe),
`validation` (one Problems type rendering `file:line: path: reason`, and the schema checks of a mapping).

At the bottom of the tree: imports only errors; seed/, rules/, course/, schema/ and artifacts/ import it.
"""
