"""galaxy.yml carries the links Automation Hub and Galaxy show, the ansible-core range we claim is the one we test,
and what users install holds no test or release tool."""

from __future__ import annotations

import re

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import REPO

GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
RUNTIME = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())


def requirements(name: str) -> list[Requirement]:
    """The requirements a file names itself (not those of the files it includes with -r)."""
    lines = (REPO / name).read_text().splitlines()
    return [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip() and line[0] != "-"]


@pytest.mark.parametrize("key", ["homepage", "repository", "documentation", "issues"])
def test_galaxy_yml_links(key: str) -> None:
    assert re.match(r"https://[\w.-]+/\S+$", GALAXY.get(key) or ""), f"galaxy.yml {key}: {GALAXY.get(key)!r}"


def test_issues_are_the_repository_s() -> None:
    assert GALAXY["issues"].startswith(GALAXY["repository"].rstrip("/") + "/")


def test_the_lowest_tested_ansible_core_is_requires_ansible() -> None:
    lowest = Version(re.fullmatch(r">=\s*([\d.]+)", RUNTIME["requires_ansible"]).group(1))
    (core,) = [req for req in requirements("requirements-lowest.txt") if req.name == "ansible-core"]
    # make integration-lowest installs the newest patch release of the lowest minor release claimed.
    assert core.specifier.contains(f"{lowest.major}.{lowest.minor}.99")
    assert not core.specifier.contains(f"{lowest.major}.{lowest.minor + 1}.0")
    assert not core.specifier.contains(f"{lowest.major}.{lowest.minor - 1}.99")


def test_what_users_install_holds_no_tool() -> None:
    runtime = {req.name for req in requirements("requirements.txt")}
    assert runtime, "requirements.txt names what the module needs"
    # ansible-core comes with the controller or the execution environment's base image, never from here.
    assert "ansible-core" not in runtime
    for name in ("requirements-kit.txt", "requirements-dev.txt", "requirements-release.txt", "requirements-lowest.txt"):
        assert not runtime & {req.name for req in requirements(name)}, name
