"""`python -m trm_directus`: the one CLI used by tasks, nox sessions, the entrypoint and humans."""

from .cli import main

raise SystemExit(main())
