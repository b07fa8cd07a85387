"""The one Directus version pin and the places that must agree with it."""

import json
import shutil

from trm_directus import pins
from trm_directus.schema import pin_check


def test_pin_is_read_from_the_dockerfile(repo):
    assert pins.directus_version(repo) == "11.17.4"


def test_committed_artifacts_agree_with_the_pin(repo):
    assert pin_check.check(repo) == []


def test_a_native_package_on_another_version_is_reported(tmp_path, repo):
    shutil.copytree(repo / "image", tmp_path / "image")
    pkg = tmp_path / "image" / "native" / "package.json"
    data = json.loads(pkg.read_text())
    data["dependencies"]["directus"] = "11.16.0"
    pkg.write_text(json.dumps(data))
    problems = pin_check.check(tmp_path)
    assert len(problems) == 1 and "directus '11.16.0' differs from the pin 11.17.4" in problems[0]


def test_a_hard_coded_from_tag_that_differs_is_reported(tmp_path, repo):
    shutil.copytree(repo / "image", tmp_path / "image")
    dockerfile = tmp_path / "image" / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text().replace("FROM directus/directus:${DIRECTUS_VERSION}", "FROM directus/directus:11.9.0")
    )
    assert any("FROM tag 11.9.0 differs" in p for p in pin_check.check(tmp_path))


def test_compose_file_does_not_repeat_the_version(repo):
    assert pins.directus_version(repo) not in (repo / "image" / "compose.yaml").read_text()
