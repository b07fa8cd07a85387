"""Benchmarks behind `python -m trm_directus bench NAME` (`nox -s bench -- NAME`): each measures an issue's
target next to a baseline measured in the same run and reports the ratio; `runner.py` lists them and
writes reports/bench.json.

The top of the tree: may import any package; only commands/ (the `bench` command) imports it.
"""
