"""The image build: the context sends only what the Dockerfile copies, and every base image is pinned exactly."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml


def _regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: from the context root, `**` spans directories."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                out, i = out + "(?:/)?", i + 1
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            j = pattern.index("]", i)
            out, i = out + pattern[i : j + 1], j + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "$")


def excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for negate, rx in rules:
        if any(rx.match(p) for p in prefixes):
            result = not negate
    return result


@pytest.fixture(scope="module")
def rules(repo) -> list[tuple[bool, re.Pattern[str]]]:
    lines = [ln.strip() for ln in (repo / ".dockerignore").read_text().splitlines()]
    return [(ln.startswith("!"), _regex(ln.lstrip("!").strip("/"))) for ln in lines if ln and not ln.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        ".state/stack/stack.json",
        ".state/stack/directus.env",
        "reports/bench.json",
        ".nox/tests/bin/python",
        ".venv/bin/python",
        ".cache/anything",
        ".pytest_cache/v/cache/nodeids",
        ".ruff_cache/0.6/x",
        "node_modules/x/index.js",
        "extensions/trm-integrity/node_modules/x/index.js",
        "extensions/trm-integrity/dist/index.js",
        "src/trm_directus/__pycache__/cli.cpython-311.pyc",
        "src/trm_directus.egg-info/PKG-INFO",
        ".git/HEAD",
        ".env",
        "image/local.env",
        "tests/unit/test_preflight.py",
    ],
)
def test_local_state_caches_and_secrets_are_not_sent_to_the_build(path, rules):
    assert excluded(path, rules), f"{path} would be sent to the image build context"


def test_everything_the_dockerfile_copies_is_in_the_context(repo, rules):
    sources = []
    for line in (repo / "image" / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            sources += [s for s in line.split()[1:-1] if not s.startswith("--")]
    assert {"pyproject.toml", "README.md", "src", "db-init", "snapshots", "extensions/", "image/entrypoint.sh"} <= set(sources)
    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    copied = [f for f in tracked if any(f == s.rstrip("/") or f.startswith(s.rstrip("/") + "/") for s in sources)]
    assert len(copied) > 20
    assert [f for f in copied if excluded(f, rules)] == []


EXACT_TAG = re.compile(r":[^:@]*\d+\.\d+\.\d+[^:@]*$|@sha256:[0-9a-f]{64}$")


def _compose_images(repo) -> dict[str, str]:
    services = yaml.safe_load((repo / "image" / "compose.yaml").read_text())["services"]
    return {name: s["image"] for name, s in services.items() if "build" not in s}


@pytest.mark.parametrize(
    "service",
    ["redis", "db", "haproxy", "backup"],
)
def test_compose_images_are_pinned_to_an_exact_version(service, repo):
    image = _compose_images(repo)[service]
    assert EXACT_TAG.search(image), f"{service}: {image} is a moving tag; pin an exact version (x.y.z)"


def test_compose_lists_no_other_unpinned_service(repo):
    assert set(_compose_images(repo)) == {"db", "redis", "haproxy", "backup"}  # a new service needs a parameter above


def test_dockerfile_base_images_are_pinned(repo):
    text = (repo / "image" / "Dockerfile").read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.MULTILINE))
    for image in re.findall(r"^FROM (\S+)", text, re.MULTILINE):
        resolved = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert EXACT_TAG.search(resolved), f"FROM {image} ({resolved}) is a moving tag"
