"""The upgrade gate: the working tree's artifacts booted on a database built and filled by a base ref's."""
