"""Run the real ansible and ansible-playbook commands against the kit."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils import basic

from tests.conftest import COLLECTIONS

BIN = Path(sys.executable).parent


@dataclass
class Run:
    rc: int
    output: str
    result: dict[str, t.Any]


# Credentials are looked up in HOME, DOCKER_CONFIG, REGISTRY_AUTH_FILE and XDG_RUNTIME_DIR: the tests
# start from none of the machine's, and a test that wants a file sets the variable itself.
CREDENTIAL_VARIABLES = ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR")
EMPTY_HOME = COLLECTIONS.parent / "empty-home"


def ansible_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANSIBLE_", "TAGSCOPE_")) and key not in CREDENTIAL_VARIABLES
    }
    EMPTY_HOME.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "HOME": str(EMPTY_HOME),
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_HOME": str(COLLECTIONS.parent / "ansible-home"),
            # ansible-core finds async results through the user's passwd home, not HOME: keep both in one place.
            "ANSIBLE_ASYNC_DIR": str(EMPTY_HOME / ".ansible_async"),
        }
    )
    env.update(extra)
    return env


def _ad_hoc(
    module: str, args: str, extra_vars: dict[str, t.Any], env: dict[str, str] | None, options: tuple[str, ...] = ()
) -> Run:
    """``ansible localhost -m MODULE -a ARGS``; the result parsed from its one-line output."""
    command = [
        str(BIN / "ansible"),
        "localhost",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        json.dumps({"ansible_python_interpreter": sys.executable, **extra_vars}),
        "-m",
        module,
        "-a",
        args,
        *options,
    ]
    process = subprocess.run(
        command, capture_output=True, text=True, env=ansible_env(**(env or {})), timeout=300, check=False
    )
    payload = process.stdout.partition(" => ")[2]
    return Run(process.returncode, process.stdout + process.stderr, json.loads(payload) if payload else {})


def run_module(
    args: dict[str, t.Any],
    *,
    env: dict[str, str] | None = None,
    python: str | None = None,
    in_controller: bool = True,
    options: tuple[str, ...] = (),
) -> Run:
    """The image_tags module with ``args`` (JSON, so ``robot$ci`` and friends need no quoting).

    On localhost the action plugin runs the query in the controller; ``in_controller=False`` (or another
    ``python``) makes it ship the module to its own process, as on any other host.
    """
    target: dict[str, t.Any] = {"ansible_python_interpreter": python} if python else {}
    if python or not in_controller:
        target["tagscope_registry_in_controller"] = False
    return _ad_hoc("tagscope.registry.image_tags", json.dumps(args), target, env, options)


def run_lookup(terms: list[str], options: dict[str, t.Any], *, env: dict[str, str] | None = None) -> Run:
    """``query('tagscope.registry.image_tags', *terms, **options)`` in an ad hoc debug task."""
    query = "msg={{ query('tagscope.registry.image_tags', *lookup_terms, **lookup_options) }}"
    return _ad_hoc("debug", query, {"lookup_terms": terms, "lookup_options": options}, env)


def run_playbook(playbook: Path, *options: str, env: dict[str, str] | None = None) -> Run:
    command = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), *options]
    process = subprocess.run(
        command, capture_output=True, text=True, env=ansible_env(**(env or {})), timeout=600, check=False
    )
    return Run(process.returncode, process.stdout + process.stderr, {})


def module_args(args: dict[str, t.Any]) -> t.ContextManager[t.Any]:
    """Set the arguments the next ``AnsibleModule`` reads, as ansible-core's own tests do on each version."""
    try:
        from ansible.module_utils.testing import patch_module_args  # noqa: PLC0415 - ansible-core 2.19 and later
    except ImportError:
        # Before 2.19 (and its typed, tagged arguments) a module read its arguments from this one variable.
        return mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    return patch_module_args(args)


def run_main(capsys: pytest.CaptureFixture[str], args: dict[str, t.Any]) -> dict[str, t.Any]:
    """The image_tags module's ``main()`` in this process with ``args``; the result it prints, parsed."""
    from ansible_collections.tagscope.registry.plugins.modules import image_tags  # noqa: PLC0415 - after the loader

    with module_args(args), pytest.raises(SystemExit):
        image_tags.main()
    return t.cast("dict[str, t.Any]", json.loads(capsys.readouterr().out))


@pytest.fixture(scope="session")
def kit_vars(kit: dict[str, t.Any]) -> str:
    """``-e @vars.json`` for playbooks: kit_token_registry, kit_ca, kit_users, ..."""
    return "@" + str(Path(kit["dir"]) / "vars.json")


@contextlib.contextmanager
def token_mode(kit: dict[str, t.Any], **mode: str) -> t.Iterator[None]:
    """Ask the kit's token server to misbehave for the length of a test: post="disabled", scopes="first"."""
    path = Path(kit["token_mode_file"])
    path.write_text(json.dumps(mode))
    try:
        yield
    finally:
        path.unlink()


def local_play(name: str, **parts: t.Any) -> list[dict[str, t.Any]]:
    """A playbook of one play on localhost, with the controller's Python (as JSON, which is YAML)."""
    return [
        {
            "name": name,
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            **parts,
        }
    ]
