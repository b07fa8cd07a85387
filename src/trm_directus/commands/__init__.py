"""One module per CLI command, each with register(subparsers) and run(args).

The top of the tree with bench/: may import any package; only cli.py imports it (by name, at run time).
"""
