"""Shared fixtures: the collection on the import path, the test kit, the fault server."""

from __future__ import annotations

import os
import sys
import typing as t
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".build" / "collections"


def _expose_collection() -> None:
    """Make ``ansible_collections.tagscope.registry`` this checkout, as ansible-test would."""
    link = COLLECTIONS / "ansible_collections" / "tagscope" / "registry"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
    if str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))
    from ansible.plugins.loader import init_plugin_loader  # noqa: PLC0415 - after the env is set

    init_plugin_loader([str(COLLECTIONS)])


_expose_collection()


def _core_under_its_file_name() -> None:
    """Under mutation testing (make mutation), import the core as ``plugins.module_utils._registry`` and let the
    ``ansible_collections`` name point at the same modules: mutmut switches mutants by the module name it derives
    from the file's path, and would otherwise never see its mutants run."""
    import importlib  # noqa: PLC0415
    import pkgutil  # noqa: PLC0415

    sys.path.insert(0, str(REPO))
    package = importlib.import_module("plugins.module_utils._registry")
    prefix = "ansible_collections.tagscope.registry.plugins.module_utils._registry"
    sys.modules[prefix] = package
    for module in pkgutil.iter_modules(package.__path__):
        name = f"plugins.module_utils._registry.{module.name}"
        sys.modules[f"{prefix}.{module.name}"] = importlib.import_module(name)


if REPO.name == "mutants":
    _core_under_its_file_name()

from tests.kit.faults import FaultServer  # noqa: E402
from tests.kit.kit import Kit  # noqa: E402


@pytest.fixture(scope="session")
def kit(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[dict[str, t.Any]]:
    """The real registries, seeded; started once per test session and stopped after it."""
    instance = Kit(tmp_path_factory.mktemp("kit"))
    state = instance.up()
    try:
        yield state
    finally:
        instance.down()


@pytest.fixture(scope="session")
def kit_mirror(kit: dict[str, t.Any]) -> t.Iterator[str]:
    """The kit's pull-through mirror of its token registry (a real Distribution in proxy mode, asking its upstream as
    alice), started on first use and stopped after the session; its ``host:port``."""
    instance = Kit(kit["dir"])
    host = instance.mirror_up()
    try:
        yield host
    finally:
        instance.mirror_down()


@pytest.fixture(scope="session")
def fault_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fault-pki")


@pytest.fixture
def faults(fault_pki: Path) -> t.Iterator[FaultServer]:
    with FaultServer(fault_pki) as server:
        yield server
