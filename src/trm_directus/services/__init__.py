"""The native processes and files a stack is made of, on this machine: `postgres` (a private cluster),
`redis`, `balancer` (HAProxy), `node` (Node.js and the pinned Directus install), `timescaledb`,
`proc` (ports, users, waiting), `private` (owner-only directories, secrets, file locks).

Below stacks/: imports db/ and the top-level helpers only; imported by stacks/, directus/ (Node, the
extension build), backup/ (the cluster), bench/, commands/ and tests.
"""
