"""The changelog is current: the version in galaxy.yml is released, and CHANGELOG.rst is what changelog.yaml gives.

Fragments in changelogs/fragments are the next release's, written as changes land: they never make this fail
(``antsibull-changelog lint``, in make release-check, checks that they are valid). Releasing is
``antsibull-changelog release`` after setting the new version in galaxy.yml.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO

TOOLS = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
CHANGES = yaml.safe_load((REPO / "changelogs" / "changelog.yaml").read_text())


def test_the_version_in_galaxy_yml_is_released() -> None:
    releases = CHANGES.get("releases") or {}
    assert GALAXY["version"] in releases, (
        f"galaxy.yml says {GALAXY['version']}, changelogs/changelog.yaml has no such release: "
        "run antsibull-changelog release"
    )
    assert releases[GALAXY["version"]].get("release_date")
    notes = (REPO / "CHANGELOG.rst").read_text()
    assert f"\nv{GALAXY['version']}\n" in notes


def test_changelog_rst_is_what_changelog_yaml_gives(tmp_path: Path) -> None:
    # Regenerated in a copy, with today's fragments beside it as in the checkout: nothing may change.
    shutil.copy(REPO / "galaxy.yml", tmp_path)
    shutil.copytree(REPO / "changelogs", tmp_path / "changelogs", ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    shutil.copy(REPO / "CHANGELOG.rst", tmp_path)
    subprocess.run([str(TOOLS / "antsibull-changelog"), "generate"], cwd=tmp_path, check=True, timeout=120)
    assert (tmp_path / "CHANGELOG.rst").read_text() == (REPO / "CHANGELOG.rst").read_text(), (
        "CHANGELOG.rst differs from what changelogs/changelog.yaml gives: run antsibull-changelog generate"
    )


def test_changelog_yaml_is_valid() -> None:
    done = subprocess.run(
        [str(TOOLS / "antsibull-changelog"), "lint-changelog-yaml", "changelogs/changelog.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
