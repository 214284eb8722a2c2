"""The tag_gate role on a fleet: it asks the registry once, every host gets the result, and a missing tag stops
every host, whichever way the role is included (roles:, include_role with run_once, serial, strategy free).

The hosts are local (connection local); the "deploy" task prints one line per host with the facts it has, so the
test sees exactly which hosts went past the gate.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from .conftest import BIN, ansible_env
from .test_gating import log_size, registry_requests

FLEET = 100
# Every host asks in per-host mode; TAGSCOPE_TEST_PER_HOST_FLEET=100 gives the figures of a full fleet.
PER_HOST_FLEET = int(os.environ.get("TAGSCOPE_TEST_PER_HOST_FLEET", "20"))
DEPLOYED = re.compile(r"DEPLOYED:(h[0-9]+):([A-Za-z0-9+/=]+)")


class Deploy(t.NamedTuple):
    rc: int
    output: str
    deployed: dict[str, dict[str, list[str]]]  # host -> the image_tags facts it deployed with
    requests: list[str]  # what the token registry received
    seconds: float


def inventory(path: Path, count: int) -> Path:
    lines = [f"h{number:03d}" for number in range(1, count + 1)]
    path.write_text(
        "[fleet]\n"
        + "\n".join(lines)
        + f"\n\n[fleet:vars]\nansible_connection=local\nansible_python_interpreter={sys.executable}\n"
    )
    return path


def deploy(
    kit: dict[str, t.Any],
    tmp_path: Path,
    *,
    images: list[str] | str | None,
    hosts: int = FLEET,
    how: str = "roles",
    play: dict[str, t.Any] | None = None,
    role_vars: dict[str, t.Any] | None = None,
    strategy: str = "linear",
) -> Deploy:
    """A play over ``hosts`` local hosts: the gate (included ``how``), then a deploy task on every host."""
    gate_vars: dict[str, t.Any] = {
        "tag_gate_username": "alice",
        "tag_gate_password": "{{ kit_users['alice'] }}",
        "tag_gate_ca_path": "{{ kit_ca }}",
        **({"tag_gate_images": images} if images is not None else {}),
        **(role_vars or {}),
    }
    # A debug task stands in for the deploy: it runs no module, so 100 hosts cost little.
    deploy_task = {
        "name": "Deploy",
        "ansible.builtin.debug": {
            "msg": "DEPLOYED:{{ inventory_hostname }}:{{ ansible_facts.image_tags | to_json | b64encode }}"
        },
    }
    plays: dict[str, t.Any] = {
        "name": "Deploy behind the gate",
        "hosts": "fleet",
        "gather_facts": False,
        **(play or {}),
    }
    if how == "module":
        # The pattern the module's documentation shows for playbooks that call it directly.
        query = {
            "name": "Gate",
            "tagscope.registry.image_tags": {
                "images": images,
                "fail_on_missing": True,
                "username": "alice",
                "password": "{{ kit_users['alice'] }}",
                "ca_path": "{{ kit_ca }}",
            },
            "delegate_to": "localhost",
            "run_once": True,
            "any_errors_fatal": True,
        }
        plays["tasks"] = [query, deploy_task]
    elif how == "roles":
        plays["roles"] = [{"role": "tagscope.registry.tag_gate", **gate_vars}]
        plays["tasks"] = [deploy_task]
    else:
        gate: dict[str, t.Any] = {
            "name": "Gate",
            f"ansible.builtin.{'import_role' if how == 'import_role' else 'include_role'}": {
                "name": "tagscope.registry.tag_gate"
            },
            "vars": gate_vars,
        }
        if how == "include_role_run_once":
            gate["run_once"] = True
        plays["tasks"] = [gate, deploy_task]
    playbook = tmp_path / "deploy.yml"
    playbook.write_text(json.dumps([plays], indent=2))  # JSON is YAML
    since = log_size(kit)
    started = time.monotonic()
    command = [
        str(BIN / "ansible-playbook"),
        "-i",
        str(inventory(tmp_path / "hosts.ini", hosts)),
        "-e",
        "@" + str(Path(kit["dir"]) / "vars.json"),
        "-f",
        "10",
        str(playbook),
    ]
    process = subprocess.run(
        command, capture_output=True, text=True, env=ansible_env(ANSIBLE_STRATEGY=strategy), timeout=900, check=False
    )
    seconds = time.monotonic() - started
    deployed = {host: json.loads(base64.b64decode(facts)) for host, facts in DEPLOYED.findall(process.stdout)}
    return Deploy(process.returncode, process.stdout + process.stderr, deployed, registry_requests(kit, since), seconds)


def private(kit: dict[str, t.Any], tag: str) -> str:
    return f"{kit['token_registry']}/private/app:{tag}"


@pytest.fixture(scope="module")
def one_query(kit: dict[str, t.Any], tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The requests of one query of the two images the fleet gates on, from a play of one host."""
    run = deploy(kit, tmp_path_factory.mktemp("one"), images=[private(kit, "1.4.1"), private(kit, "1.5.0")], hosts=1)
    assert run.rc == 0, run.output
    assert run.requests, "the token registry logged nothing"
    return run.requests


def test_the_fleet_asks_once_and_every_host_gets_the_facts(
    kit: dict[str, t.Any], tmp_path: Path, one_query: list[str]
) -> None:
    run = deploy(kit, tmp_path, images=[private(kit, "1.4.1"), private(kit, "1.5.0")])
    assert run.rc == 0, run.output
    # The same requests as one query (their order varies: images are asked concurrently).
    assert sorted(run.requests) == sorted(one_query)
    assert len(run.deployed) == FLEET
    facts = {json.dumps(value, sort_keys=True) for value in run.deployed.values()}
    assert len(facts) == 1
    (tags,) = json.loads(facts.pop()).values()
    assert "1.4.1" in tags and "1.5.0" in tags and len(tags) == 30
    print(f"\nfleet of {FLEET}, once per play: {len(run.requests)} registry requests, {run.seconds:.1f} s")


def test_per_host_mode_asks_for_every_host(kit: dict[str, t.Any], tmp_path: Path, one_query: list[str]) -> None:
    run = deploy(
        kit,
        tmp_path,
        hosts=PER_HOST_FLEET,
        images=[private(kit, "1.4.1"), private(kit, "1.5.0")],
        role_vars={"tag_gate_per_host": True},
    )
    assert run.rc == 0, run.output
    assert len(run.deployed) == PER_HOST_FLEET
    # Each host's module run starts from scratch: the same requests as one query, once per host.
    assert len(run.requests) == PER_HOST_FLEET * len(one_query)
    print(f"\nfleet of {PER_HOST_FLEET}, per host: {len(run.requests)} registry requests, {run.seconds:.1f} s")


def test_serial_asks_once_per_batch(kit: dict[str, t.Any], tmp_path: Path, one_query: list[str]) -> None:
    run = deploy(kit, tmp_path, hosts=20, play={"serial": 8}, images=[private(kit, "1.4.1"), private(kit, "1.5.0")])
    assert run.rc == 0, run.output
    assert len(run.deployed) == 20
    assert len(run.requests) == 3 * len(one_query)  # batches of 8, 8 and 4


MISSING = "tag_gate: 1 required tag is missing: {reference} (nearest: 1.4.1, 1.5.0)"


class Inclusion(t.NamedTuple):
    how: str
    play: dict[str, t.Any]
    strategy: str = "linear"
    hosts: int = FLEET


INCLUSIONS = [
    Inclusion("roles", {}),
    Inclusion("module", {}, hosts=20),
    Inclusion("module", {"serial": 8}, hosts=20),
    Inclusion("include_role", {}, hosts=20),
    Inclusion("include_role_run_once", {}, hosts=20),
    Inclusion("import_role", {}, hosts=20),
    Inclusion("roles", {"serial": 8}, hosts=20),
    Inclusion("include_role_run_once", {"serial": 8}, hosts=20),
    # Under the free strategy every host runs the query itself: fewer hosts keep it quick.
    Inclusion("roles", {}, "free", 10),
    Inclusion("include_role_run_once", {}, "free", 10),
]


@pytest.mark.parametrize("case", INCLUSIONS, ids=[f"{c.how}-{c.strategy}-{c.play}" for c in INCLUSIONS])
def test_a_missing_tag_stops_every_host(kit: dict[str, t.Any], tmp_path: Path, case: Inclusion) -> None:
    missing = private(kit, "1.4.2")
    run = deploy(
        kit,
        tmp_path,
        images=[private(kit, "1.4.1"), missing],
        hosts=case.hosts,
        how=case.how,
        play=case.play,
        strategy=case.strategy,
    )
    assert run.rc != 0
    assert run.deployed == {}, f"deployed past a failed gate: {sorted(run.deployed)}"
    if case.how == "module":
        assert f"1.4.2 not found in {kit['token_registry']}/private/app; nearest: 1.4.1, 1.5.0" in run.output
    else:
        assert MISSING.format(reference=missing) in run.output


def test_per_host_images_missing_on_one_host_stop_them_all(kit: dict[str, t.Any], tmp_path: Path) -> None:
    # h007 asks for a tag that was never pushed; every other host's tag exists.
    missing = private(kit, "1.4.2")
    run = deploy(
        kit,
        tmp_path,
        hosts=20,
        images=[f"{{{{ '{missing}' if inventory_hostname == 'h007' else '{private(kit, '1.5.0')}' }}}}"],
        role_vars={"tag_gate_per_host": True},
    )
    assert run.rc != 0
    assert run.deployed == {}
    assert MISSING.format(reference=missing) in run.output


@pytest.mark.parametrize("value", [[], None])
def test_an_empty_or_misspelt_image_list_stops_every_host(
    kit: dict[str, t.Any], tmp_path: Path, value: list[str] | None
) -> None:
    # None: the user wrote tag_gate_image (singular), so tag_gate_images keeps its default.
    role_vars = {"tag_gate_images": []} if value is not None else {"tag_gate_image": ["alpine:3.19"]}
    run = deploy(kit, tmp_path, hosts=5, images=None, how="include_role_run_once", role_vars=role_vars)
    assert run.rc != 0
    assert run.deployed == {}
    assert "tag_gate_images is empty or not set (is the variable name misspelt?)" in run.output
