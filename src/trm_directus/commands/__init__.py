"""One module per CLI command, each with register(subparsers) and run(args)."""
