"""Round trips against the kit's real registry and token server, counted from their logs.

N images on one registry, cold: one challenge, one token request carrying every scope, one list each (N + 2).
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from .conftest import local_play, run_lookup, run_module, run_playbook, token_mode
from .test_gating import log_size, registry_requests


def token_lines(kit: dict[str, t.Any], since: int) -> list[str]:
    log = Path(kit["dir"]) / "token-server.log"
    return [line.split(" ", 1)[1] for line in log.read_text()[since:].splitlines()]


def repos(kit: dict[str, t.Any], count: int, space: str = "private") -> list[str]:
    return [f"{kit['token_registry']}/{space}/r{number:02d}" for number in range(1, count + 1)]


def alice(kit: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"username": "alice", "password": kit["users"]["alice"], "ca_path": kit["ca"]}


@pytest.mark.parametrize("count", [1, 3, 20])
def test_n_images_cost_n_plus_two_requests(kit: dict[str, t.Any], count: int) -> None:
    since, token_since = log_size(kit), log_size(kit, "token-server.log")
    run = run_module({"images": repos(kit, count), **alice(kit)})
    assert run.rc == 0, run.output
    assert [image["tags"] for image in run.result["images"]] == [["1.0", "1.1", "2.0"]] * count
    # Results keep the order of the images, though they were asked concurrently.
    assert [image["repository"] for image in run.result["images"]] == [f"private/r{n:02d}" for n in range(1, count + 1)]
    sent = registry_requests(kit, since)
    tokens = token_lines(kit, token_since)
    assert len(tokens) == 1, tokens
    assert tokens[0].startswith("GET /token user='alice' service='tagscope-kit' scopes=[")
    asked = tokens[0].split("scopes=[", 1)[1].split("]", 1)[0].split(", ")
    assert sorted(asked) == sorted(f"'repository:private/r{n:02d}:pull'" for n in range(1, count + 1))
    assert len(sent) == count + 1  # one challenge (a 401), then one list per image
    assert len(sent) + len(tokens) == count + 2


@pytest.fixture
def first_scope_only(kit: dict[str, t.Any]) -> t.Iterator[None]:
    """The kit's token server grants only the first scope of a request."""
    with token_mode(kit, scopes="first"):
        yield


@pytest.mark.usefixtures("first_scope_only")
def test_a_token_server_granting_one_scope_costs_a_token_each_never_a_wrong_answer(kit: dict[str, t.Any]) -> None:
    since, token_since = log_size(kit), log_size(kit, "token-server.log")
    run = run_module({"images": repos(kit, 5), **alice(kit), "concurrency": 1})
    assert run.rc == 0, run.output
    assert [image["tags"] for image in run.result["images"]] == [["1.0", "1.1", "2.0"]] * 5
    tokens = token_lines(kit, token_since)
    # The shared token, then one of its own for each repository it did not cover: once each, never a loop.
    assert len(tokens) == 5, tokens
    assert tokens[0].count("repository:") == 5
    assert all(line.count("repository:") == 1 for line in tokens[1:])
    # Challenge; first list; then for each other image a 401 (insufficient scope) and the list again.
    assert len(registry_requests(kit, since)) == 1 + 1 + 2 * 4


def test_a_tagged_reference_without_listing_is_one_head_once_a_token_is_held(kit: dict[str, t.Any]) -> None:
    images = [f"{name}:1.1" for name in repos(kit, 3)]
    since = log_size(kit)
    run = run_module({"images": images, "list_tags": False, **alice(kit)})
    assert run.rc == 0, run.output
    assert [image["exists"] for image in run.result["images"]] == [True, True, True]
    sent = registry_requests(kit, since)
    assert len(sent) == 1 + 3 and all(line.startswith("HEAD ") for line in sent)


def test_lookup_calls_in_one_task_share_the_challenge(kit: dict[str, t.Any], tmp_path: Path) -> None:
    playbook = tmp_path / "loop.yml"
    play = local_play(
        "The lookup, once per repository, in one task",
        tasks=[
            {
                "name": "Ask each repository",
                "ansible.builtin.debug": {
                    "msg": "{{ query('tagscope.registry.image_tags', item, username='alice', "
                    "password=kit_users['alice'], ca_path=kit_ca) }}"
                },
                "loop": repos(kit, 20),
            }
        ],
    )
    playbook.write_text(json.dumps(play))
    since, token_since = log_size(kit), log_size(kit, "token-server.log")
    run = run_playbook(playbook, "-e", "@" + str(Path(kit["dir"]) / "vars.json"))
    assert run.rc == 0, run.output
    # One challenge, then one token and one list per call.
    assert len(registry_requests(kit, since)) == 1 + 20
    assert len(token_lines(kit, token_since)) == 20


def test_several_failing_images_are_each_named(kit: dict[str, t.Any]) -> None:
    run = run_lookup(
        [f"{kit['token_registry']}/public/r01", f"{kit['token_registry']}/private/r02", f"{kit['token_registry']}/x/y"],
        {"ca_path": kit["ca"]},
    )
    assert run.rc != 0
    assert "2 images failed: " in run.output
    assert f"{kit['token_registry']}/private/r02: GET " in run.output
    assert f"{kit['token_registry']}/x/y: GET " in run.output
