"""Platforms and pinned references against the kit's real registry: an OCI index of linux/amd64 and linux/arm64 with
a BuildKit-style attestation entry (private/app:multi), a Docker v2 single image (1.0.0), an OCI single image (1.5.0),
a Docker manifest list of Docker v2 images (public/dockerlist:1.0).
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from pathlib import Path

import pytest
import requests

from .conftest import local_play, run_module, run_playbook
from .test_gating import alice, log_size, private, registry_requests


def test_an_index_offers_its_platforms_and_no_attestation(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [private(kit, ":multi")], "platforms": ["linux/arm64/v8"], **alice(kit)})
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert image["platforms"] == ["linux/amd64", "linux/arm64"]
    assert image["missing_platforms"] == []
    assert image["digest"] == kit["repos"]["private/app"]["multi"]
    assert image["pinned"] == f"{private(kit)}:multi@{kit['repos']['private/app']['multi']}"


def test_single_images_offer_the_platform_of_their_config(kit: dict[str, t.Any]) -> None:
    run = run_module(
        {"images": [private(kit, ":1.0.0"), private(kit, ":1.5.0")], "platforms": ["linux/amd64"], **alice(kit)}
    )
    assert run.rc == 0, run.output
    assert [image["platforms"] for image in run.result["images"]] == [["linux/amd64"], ["linux/amd64"]]


def test_an_amd64_only_tag_is_refused_for_arm64_naming_what_it_has(kit: dict[str, t.Any]) -> None:
    run = run_module(
        {
            "images": [private(kit, ":1.5.0")],
            "platforms": ["linux/amd64", "linux/arm64"],
            "fail_on_missing": True,
            **alice(kit),
        }
    )
    assert run.rc != 0
    assert run.result["msg"] == f"1.5.0 in {private(kit)} lacks linux/arm64; it has linux/amd64"
    assert run.result["missing"] == [private(kit, ":1.5.0")]


def test_platforms_cost_a_get_and_a_config_not_a_head(kit: dict[str, t.Any]) -> None:
    since = log_size(kit)
    assert run_module({"images": [private(kit, ":1.5.0")], "list_tags": False, **alice(kit)}).rc == 0
    assert registry_requests(kit, since) == ["HEAD /v2/private/app/manifests/1.5.0"] * 2  # the 401, then the answer
    since = log_size(kit)
    run = run_module(
        {"images": [private(kit, ":1.5.0")], "list_tags": False, "platforms": ["linux/amd64"], **alice(kit)}
    )
    assert run.rc == 0, run.output
    sent = registry_requests(kit, since)
    assert sent[:2] == ["GET /v2/private/app/manifests/1.5.0"] * 2
    assert len(sent) == 3 and sent[2].startswith("GET /v2/private/app/blobs/sha256:")


def test_the_role_gates_platforms_and_hands_out_pinned_references(kit: dict[str, t.Any], tmp_path: Path) -> None:
    def play(platforms: list[str]) -> Path:
        path = tmp_path / f"gate-{len(platforms)}.yml"
        gate = {
            "role": "tagscope.registry.tag_gate",
            "tag_gate_images": [private(kit, ":multi"), private(kit, ":1.5.0")],
            "tag_gate_platforms": platforms,
            "tag_gate_username": "alice",
            "tag_gate_password": "{{ kit_users['alice'] }}",
            "tag_gate_ca_path": "{{ kit_ca }}",
        }
        show = {"ansible.builtin.debug": {"msg": "PINNED={{ tag_gate_pinned | to_json }}"}}
        path.write_text(json.dumps(local_play("Gate on platforms", roles=[gate], tasks=[show])))
        return path

    kit_vars = "@" + str(Path(kit["dir"]) / "vars.json")
    passing = run_playbook(play(["linux/amd64"]), "-e", kit_vars)
    assert passing.rc == 0, passing.output
    digests = kit["repos"]["private/app"]
    pinned = {
        private(kit, ":multi"): f"{private(kit)}:multi@{digests['multi']}",
        private(kit, ":1.5.0"): f"{private(kit)}:1.5.0@{digests['1.5.0']}",
    }
    assert f"PINNED={json.dumps(pinned)}".replace('"', '\\"') in passing.output
    refused = run_playbook(play(["linux/amd64", "linux/arm64"]), "-e", kit_vars)
    assert refused.rc != 0
    assert (
        f"tag_gate: 1 required tag is missing: {private(kit, ':1.5.0')} (lacks linux/arm64; has linux/amd64)"
        in refused.output
    )


DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def registry_answer(kit: dict[str, t.Any], repository: str, tag: str) -> tuple[requests.Response, requests.Response]:
    """HEAD and GET of the tag's manifest, asked the way docker pull asks (a list or a v2 manifest), anonymously."""
    token = requests.get(
        kit["realm"],
        params={"service": kit["service"], "scope": f"repository:{repository}:pull"},
        verify=kit["ca"],
        timeout=10,
    ).json()["token"]
    url = f"https://{kit['token_registry']}/v2/{repository}/manifests/{tag}"
    headers = {"Authorization": f"Bearer {token}", "Accept": f"{DOCKER_LIST}, {DOCKER_MANIFEST}"}
    return (
        requests.head(url, headers=headers, verify=kit["ca"], timeout=10),
        requests.get(url, headers=headers, verify=kit["ca"], timeout=10),
    )


@pytest.mark.parametrize("platforms", [[], ["linux/arm64"]], ids=["head", "get-with-platforms"])
def test_a_docker_manifest_list_is_pinned_by_the_lists_own_digest(kit: dict[str, t.Any], platforms: list[str]) -> None:
    head, get = registry_answer(kit, "public/dockerlist", "1.0")
    # What the registry serves there is a Docker list, and its digest is the hash of the list's own bytes.
    assert get.headers["Content-Type"] == head.headers["Content-Type"] == DOCKER_LIST
    digest = head.headers["Docker-Content-Digest"]
    assert digest == get.headers["Docker-Content-Digest"] == "sha256:" + hashlib.sha256(get.content).hexdigest()
    children = [entry["digest"] for entry in get.json()["manifests"]]
    assert len(children) == 2 and digest not in children
    image = f"{kit['token_registry']}/public/dockerlist"
    run = run_module({"images": [f"{image}:1.0"], "ca_path": kit["ca"], "platforms": platforms})
    assert run.rc == 0, run.output
    (result,) = run.result["images"]
    assert (result["exists"], result["digest"], result["pinned"]) == (True, digest, f"{image}:1.0@{digest}")
    if platforms:
        assert result["platforms"] == ["linux/amd64", "linux/arm64"]
