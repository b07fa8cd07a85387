"""trm-directus: the toolchain that makes TRM's Directus instance reproducible and safe."""

__version__ = "0.1.0"
