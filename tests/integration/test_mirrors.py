"""Mirrors and pull budgets against the kit: its token registry, and in front of it a real pull-through mirror
(Distribution in proxy mode, ``/usr/bin/docker-registry``, asking its upstream as alice).

Who asked what is read from the registries' access logs: the client's requests carry the user agent
``tagscope.registry``, the mirror's own requests to its upstream Go's. What the real mirror will not do (answer a
tag with an old digest, send Docker Hub's rate-limit headers) a fault server on 127.0.0.1 plays.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tests.kit.faults import FaultServer, Reply, Request, json_reply
from tests.kit.kit import Kit

from .conftest import run_lookup, run_module
from .test_fleet import deploy

# Ten tags of the kit's private/app (the mirror's upstream user, alice, may pull them).
TAGS = ["0.9.0", "1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.4.1", "1.5.0", "1.9.0", "1.10.0", "2.0.0"]


def log_size(kit: dict[str, t.Any], name: str) -> int:
    return (Path(kit["dir"]) / f"{name}.log").stat().st_size


def requests_from(kit: dict[str, t.Any], name: str, since: int, *, agent: str = "tagscope.registry") -> list[str]:
    """The requests registry ``name`` logged since ``since`` whose user agent is ``agent`` (Go's is the mirror's)."""
    text = (Path(kit["dir"]) / f"{name}.log").read_text()[since:]
    found = []
    for line in text.splitlines():
        if line.startswith("127.0.0.1 - - ["):
            parts = line.split('"')  # ... "GET /v2/... HTTP/1.1" 200 349 "referer" "user agent"
            if parts[5].startswith(agent):
                found.append(parts[1].rsplit(" ", 1)[0])
    return found


def private(kit: dict[str, t.Any], tag: str) -> str:
    return f"{kit['token_registry']}/private/app:{tag}"


def with_mirror(kit: dict[str, t.Any], *mirrors: str, user: str = "alice") -> dict[str, t.Any]:
    """The module's options: explicit credentials for the registry, and its mirrors."""
    return {
        "username": user,
        "password": kit["users"][user],
        "ca_path": kit["ca"],
        "mirrors": {kit["token_registry"]: list(mirrors)},
    }


def test_a_healthy_mirror_costs_the_registry_nothing(kit: dict[str, t.Any], kit_mirror: str) -> None:
    registry_since, mirror_since = log_size(kit, "token_registry"), log_size(kit, "mirror_registry")
    run = run_module({"images": [private(kit, tag) for tag in TAGS], **with_mirror(kit, kit_mirror)})
    assert run.rc == 0, run.output
    images = run.result["images"]
    assert [(image["exists"], image["digest"], image["served_by"]) for image in images] == [
        (True, kit["repos"]["private/app"][tag], kit_mirror) for tag in TAGS
    ]
    assert all(image["stale_mirror"] is False for image in images)
    assert "warnings" not in run.result
    # Not one request of the client reached the registry; the mirror asked its upstream itself.
    assert requests_from(kit, "token_registry", registry_since) == []
    ours = requests_from(kit, "mirror_registry", mirror_since)
    assert sorted(ours) == sorted(
        ["GET /v2/private/app/tags/list"] + [f"HEAD /v2/private/app/manifests/{tag}" for tag in TAGS]
    )
    upstream = requests_from(kit, "token_registry", registry_since, agent="Go-http-client")
    print(
        f"\n{len(TAGS)} images through the mirror: 0 requests to the registry, {len(ours)} to the mirror, "
        f"which sent its upstream {len(upstream)}"
    )


def test_a_stopped_mirror_costs_one_failed_attempt_and_the_registry_answers(kit: dict[str, t.Any]) -> None:
    instance = Kit(kit["dir"])
    stopped = instance.mirror_up("mirror_stopped")
    instance.mirror_down("mirror_stopped")  # its port: nobody listens there any more
    registry_since = log_size(kit, "token_registry")
    run = run_module({"images": [private(kit, tag) for tag in TAGS], **with_mirror(kit, stopped)})
    assert run.rc == 0, run.output
    assert [(image["exists"], image["served_by"]) for image in run.result["images"]] == [
        (True, kit["token_registry"])
    ] * len(TAGS)
    # One warning: the first image found the mirror dead for all of them.
    printed = " ".join(run.output.split())
    assert printed.count(f"mirror {stopped} failed") == 1, run.output
    assert (
        f"mirror {stopped} failed, so the next mirror or the registry was asked: HEAD https://{stopped}/v2/" in printed
    )
    assert "Connection refused" in printed
    # The registry answers as if there were no mirror: its challenge, a HEAD per tag and the tag list.
    ours = requests_from(kit, "token_registry", registry_since)
    assert len(ours) == 1 + len(TAGS) + 1, ours


def test_a_mirror_404_is_not_trusted(kit: dict[str, t.Any], kit_mirror: str) -> None:
    """team-b/app is robot$ci's: the mirror, which asks as alice, answers 404 for it."""
    registry_since = log_size(kit, "token_registry")
    team = f"{kit['token_registry']}/team-b/app"
    run = run_module(
        {
            "images": [private(kit, "1.5.0"), f"{team}:1.0", f"{team}:9.9"],
            "list_tags": False,
            **with_mirror(kit, kit_mirror, user="robot$ci"),
        }
    )
    assert run.rc == 0, run.output
    assert [(image["exists"], image["served_by"]) for image in run.result["images"]] == [
        (True, kit_mirror),
        (True, kit["token_registry"]),
        (False, kit["token_registry"]),  # missing because the registry says so, not the mirror
    ]
    assert run.result["images"][1]["digest"] == kit["repos"]["team-b/app"]["1.0"]
    ours = requests_from(kit, "token_registry", registry_since)
    assert "HEAD /v2/team-b/app/manifests/9.9" in ours
    assert not [line for line in ours if "private/app" in line]


def test_the_lookup_reads_through_the_mirror(kit: dict[str, t.Any], kit_mirror: str) -> None:
    registry_since = log_size(kit, "token_registry")
    run = run_lookup(
        [f"{kit['token_registry']}/private/app"], {"constraint": ">=1.9,<2", **with_mirror(kit, kit_mirror)}
    )
    assert run.rc == 0, run.output
    assert run.result["msg"] == ["1.9.0", "1.10.0", "1.10.0_build.7"]
    assert requests_from(kit, "token_registry", registry_since) == []


@pytest.fixture
def ca_bundle(kit: dict[str, t.Any], faults: FaultServer, tmp_path: Path) -> str:
    """The kit's CA and the fault server's, for a run that speaks to both."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text(Path(kit["ca"]).read_text() + Path(faults.ca).read_text())
    return str(bundle)


def test_a_stale_mirror_is_caught_by_the_registry(kit: dict[str, t.Any], faults: FaultServer, ca_bundle: str) -> None:
    """Distribution's proxy asks its upstream for every tag, so a fault server plays a cache that still holds the
    1.5.0 of before: it names the digest of 1.4.1."""
    old = kit["repos"]["private/app"]["1.4.1"]
    faults.handler = lambda request: Reply(200, b"", [("Docker-Content-Digest", old)])
    registry_since = log_size(kit, "token_registry")
    approved = kit["repos"]["private/app"]["1.5.0"]
    run = run_module(
        {
            "images": [f"{private(kit, '1.5.0')}@{approved}"],
            "list_tags": False,
            "fail_on_missing": True,
            **with_mirror(kit, faults.host),
            "ca_path": ca_bundle,
        }
    )
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert (image["exists"], image["moved"], image["stale_mirror"], image["served_by"]) == (
        True,
        False,
        True,
        kit["token_registry"],
    )
    assert image["pinned"] == f"{private(kit, '1.5.0')}@{approved}"
    assert [f"{r.method} {r.path}" for r in faults.requests] == ["HEAD /v2/private/app/manifests/1.5.0"]
    # The registry was asked for the tag (its challenge, then the HEAD).
    assert requests_from(kit, "token_registry", registry_since) == ["HEAD /v2/private/app/manifests/1.5.0"] * 2


def test_the_role_gates_a_fleet_through_the_mirror(kit: dict[str, t.Any], kit_mirror: str, tmp_path: Path) -> None:
    registry_since = log_size(kit, "token_registry")
    run = deploy(
        kit,
        tmp_path,
        hosts=5,
        images=[private(kit, "1.4.1"), private(kit, "1.5.0")],
        role_vars={"tag_gate_mirrors": {kit["token_registry"]: [kit_mirror]}},
    )
    assert run.rc == 0, run.output
    assert len(run.deployed) == 5
    assert requests_from(kit, "token_registry", registry_since) == []


class Budget:
    """An open registry of org/app that sends Docker Hub's rate-limit headers: 3 pulls left of 100."""

    def __call__(self, request: Request) -> Reply:
        limits = [("RateLimit-Limit", "100;w=21600"), ("RateLimit-Remaining", "3;w=21600")]
        if request.path.endswith("/tags/list"):
            return json_reply({"name": "org/app", "tags": ["1.0", "1.1"]})
        return Reply(200, b"", [("Docker-Content-Digest", "sha256:" + "a" * 64), *limits])


def test_min_remaining_stops_the_whole_fleet_before_any_host_deploys(
    kit: dict[str, t.Any], faults: FaultServer, ca_bundle: str, tmp_path: Path
) -> None:
    faults.handler = Budget()
    run = deploy(
        kit,
        tmp_path,
        hosts=5,
        images=[f"{faults.host}/org/app:1.0", f"{faults.host}/org/app:1.1", f"{faults.host}/org/app"],
        role_vars={"tag_gate_min_remaining": 10, "tag_gate_ca_path": ca_bundle},
    )
    assert run.rc != 0, run.output
    assert run.deployed == {}
    message = (
        f"{faults.host} says 3 of 100 pulls remain in its 21600 s window, fewer than min_remaining (10); stopped "
        "before sending it more requests"
    )
    assert message in run.output
    # The one reply that told the budget; nothing after it.
    assert len(faults.requests) == 1
