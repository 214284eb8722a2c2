"""Execution environments get the collection's Python requirements, and the example definition gives a build context.

ansible-builder runs without a container engine here: ``introspect`` reads the collection as Galaxy ships it (the
tarball, installed), and ``create`` writes the build context of docs/execution-environment.yml, whose own
introspection script is then run on the same collection, as the image build would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

TOOLS = Path(sys.executable).parent
RUNTIME_REQUIREMENTS = [
    line.strip() for line in (REPO / "requirements.txt").read_text().splitlines() if line.strip()[:1] not in ("", "#")
]


def _run(*command: str | Path, cwd: Path = REPO) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def collections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection built and installed as users get it: ``<dir>/ansible_collections/tagscope/registry``."""
    directory = tmp_path_factory.mktemp("ee")
    _run(TOOLS / "ansible-galaxy", "collection", "build", "--force", "--output-path", directory, REPO)
    (tarball,) = directory.glob("tagscope-registry-*.tar.gz")
    _run(TOOLS / "ansible-galaxy", "collection", "install", "--force", "-p", directory / "collections", tarball)
    return directory / "collections"


def _from_the_collection(requirements: list[str]) -> list[str]:
    return [f"{line}  # from collection tagscope.registry" for line in requirements]


def test_introspect_finds_the_runtime_requirements(collections: Path) -> None:
    output = _run(TOOLS / "ansible-builder", "introspect", "--sanitize", collections)
    found = yaml.safe_load(output)
    assert found == {"python": _from_the_collection(RUNTIME_REQUIREMENTS), "system": []}


def test_the_meta_file_names_requirements_txt() -> None:
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"] == {"python": "requirements.txt"}


def test_the_example_gives_a_build_context(collections: Path, tmp_path: Path) -> None:
    context = tmp_path / "context"
    _run(
        TOOLS / "ansible-builder",
        "create",
        "--file",
        REPO / "docs" / "execution-environment.yml",
        "--context",
        context,
        "--output-filename",
        "Containerfile",
    )
    containerfile = (context / "Containerfile").read_text()
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert [entry["name"] for entry in galaxy["collections"]] == ["tagscope.registry"]
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect.py introspect" in containerfile
    # The build's own introspection, on the collection it would install: requests goes into the image.
    written = tmp_path / "requirements.txt"
    _run(
        sys.executable,
        context / "_build" / "scripts" / "introspect.py",
        "introspect",
        "--sanitize",
        f"--write-pip={written}",
        f"--write-bindep={tmp_path / 'bindep.txt'}",
        collections,
    )
    assert written.read_text().splitlines() == _from_the_collection(RUNTIME_REQUIREMENTS)
