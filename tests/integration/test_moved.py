"""A reference ``name:tag@digest`` is checked both ways, against the kit's real registry, through the module, the
lookup and the role: a tag pushed again since the digest was written has moved, and a gate never passes it unless
moves are allowed."""

from __future__ import annotations

import base64
import json
import re
import typing as t
import uuid
from pathlib import Path

import pytest

from tests.kit.seed import Pusher

from .conftest import run_lookup, run_module
from .test_fleet import deploy

PUBLISHED = "{'moved': tag_gate_moved, 'pinned': tag_gate_pinned}"


class Repo(t.NamedTuple):
    name: str  # registry/repository
    first: str  # digest of the image 1.0.0 named first
    second: str  # digest of the image 1.0.0 names after it was pushed again
    other: str  # digest of 1.1.0


def push(kit: dict[str, t.Any], repository: str, tag: str, label: str) -> str:
    pusher = Pusher(kit)
    session = pusher.session()
    body, media_type = pusher.image(session, repository, label)
    return pusher.manifest(session, repository, tag, body, media_type)


@pytest.fixture
def repo(kit: dict[str, t.Any]) -> Repo:
    """A repository of its own: 1.0.0 is pushed, then pushed again with another image; 1.1.0 stays."""
    repository = f"private/moving-{uuid.uuid4().hex[:8]}"
    first = push(kit, repository, "1.0.0", "first")
    other = push(kit, repository, "1.1.0", "other")
    second = push(kit, repository, "1.0.0", "second")
    assert len({first, second, other}) == 3
    return Repo(f"{kit['token_registry']}/{repository}", first, second, other)


def alice(kit: dict[str, t.Any]) -> dict[str, str]:
    return {"username": "alice", "password": kit["users"]["alice"], "ca_path": kit["ca"]}


def moved_message(repo: Repo) -> str:
    return f"1.0.0 in {repo.name} moved: it now names {repo.second}, the reference expects {repo.first}"


def test_a_tag_that_names_its_digest_passes(kit: dict[str, t.Any], repo: Repo) -> None:
    run = run_module({"images": [f"{repo.name}:1.0.0@{repo.second}"], "fail_on_missing": True, **alice(kit)})
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert (image["exists"], image["moved"], image["digest"], image["digest_exists"]) == (
        True,
        False,
        repo.second,
        True,
    )
    assert image["pinned"] == f"{repo.name}:1.0.0@{repo.second}"


def test_a_moved_tag_fails_the_gate(kit: dict[str, t.Any], repo: Repo) -> None:
    run = run_module({"images": [f"{repo.name}:1.0.0@{repo.first}"], "fail_on_missing": True, **alice(kit)})
    assert run.rc != 0
    assert run.result["msg"] == moved_message(repo)
    (image,) = run.result["images"]
    assert image["exists"] is False
    assert image["moved"] is True
    assert (image["digest"], image["expected_digest"], image["digest_exists"]) == (repo.second, repo.first, True)
    # Never a tag paired with a digest it does not name.
    assert image["pinned"] is None
    assert run.result["missing"] == [f"{repo.name}:1.0.0@{repo.first}"]


def test_a_moved_tag_is_reported_without_fail_on_missing(kit: dict[str, t.Any], repo: Repo) -> None:
    """The bug this replaces: the digest alone was looked up, and exists/pinned paired 1.1.0 with 1.0.0's digest."""
    run = run_module({"images": [f"{repo.name}:1.1.0@{repo.second}"], "list_tags": False, **alice(kit)})
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert (image["exists"], image["moved"], image["pinned"]) == (False, True, None)
    assert (image["digest"], image["expected_digest"]) == (repo.other, repo.second)


def test_allow_moved_reports_and_pins_the_new_digest(kit: dict[str, t.Any], repo: Repo) -> None:
    run = run_module(
        {"images": [f"{repo.name}:1.0.0@{repo.first}"], "fail_on_missing": True, "allow_moved": True, **alice(kit)}
    )
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert (image["exists"], image["moved"], image["digest"]) == (True, True, repo.second)
    assert image["pinned"] == f"{repo.name}:1.0.0@{repo.second}"
    assert image["expected_digest"] == repo.first


def test_several_moved_tags_are_listed_together(kit: dict[str, t.Any], repo: Repo) -> None:
    run = run_module(
        {
            "images": [f"{repo.name}:1.0.0@{repo.first}", f"{repo.name}:1.1.0@{repo.first}"],
            "fail_on_missing": True,
            "list_tags": False,
            **alice(kit),
        }
    )
    assert run.result["msg"] == (
        f"2 required images are missing: {moved_message(repo)}; "
        f"1.1.0 in {repo.name} moved: it now names {repo.other}, the reference expects {repo.first}"
    )


def test_a_tag_that_is_gone_says_whether_its_digest_is_still_there(kit: dict[str, t.Any], repo: Repo) -> None:
    absent = "sha256:" + "2" * 64
    run = run_module(
        {
            "images": [f"{repo.name}:1.2.0@{repo.first}", f"{repo.name}:1.2.0@{absent}"],
            "fail_on_missing": True,
            **alice(kit),
        }
    )
    assert run.rc != 0
    assert run.result["msg"] == (
        f"2 tags not found: 1.2.0 not found in {repo.name} "
        f"(its digest {repo.first} is still in the repository; nearest: 1.1.0); "
        f"1.2.0 not found in {repo.name} (its digest {absent} is not in the repository; nearest: 1.1.0)"
    )
    first, second = run.result["images"]
    assert (first["exists"], first["moved"], first["digest"], first["digest_exists"]) == (False, False, None, True)
    assert (second["exists"], second["digest_exists"]) == (False, False)


def test_check_mode_gives_the_same_answer(kit: dict[str, t.Any], repo: Repo) -> None:
    args = {"images": [f"{repo.name}:1.0.0@{repo.first}"], "fail_on_missing": True, **alice(kit)}
    real = run_module(args)
    checked = run_module(args, options=("--check",))
    assert checked.rc == real.rc != 0
    assert checked.result["msg"] == real.result["msg"] == moved_message(repo)
    assert checked.result["images"] == real.result["images"]


def test_the_module_in_its_own_process_agrees(kit: dict[str, t.Any], repo: Repo) -> None:
    run = run_module(
        {"images": [f"{repo.name}:1.0.0@{repo.first}"], "fail_on_missing": True, **alice(kit)}, in_controller=False
    )
    assert run.rc != 0
    assert run.result["msg"] == moved_message(repo)


def test_the_lookup_fails_on_a_moved_tag_and_allows_it_when_asked(kit: dict[str, t.Any], repo: Repo) -> None:
    term = f"{repo.name}:1.0.0@{repo.first}"
    failed = run_lookup([term], {"fail_on_missing": True, **alice(kit)})
    assert failed.rc != 0
    assert moved_message(repo) in failed.output
    allowed = run_lookup([term], {"fail_on_missing": True, "allow_moved": True, **alice(kit)})
    assert allowed.rc == 0, allowed.output
    assert allowed.result["msg"] == ["1.0.0", "1.1.0"]


def test_the_role_stops_every_host_on_a_moved_tag(kit: dict[str, t.Any], repo: Repo, tmp_path: Path) -> None:
    run = deploy(kit, tmp_path, images=[f"{repo.name}:1.0.0@{repo.first}"], hosts=3)
    assert run.rc != 0
    assert run.deployed == {}
    assert f"tag_gate: 1 required tag is missing or moved: {moved_message(repo)}" in run.output.replace("\n", " ")


def test_the_role_publishes_moved_tags_when_allowed(kit: dict[str, t.Any], repo: Repo, tmp_path: Path) -> None:
    reference = f"{repo.name}:1.0.0@{repo.first}"
    run = deploy(
        kit,
        tmp_path,
        images=[reference],
        hosts=3,
        role_vars={"tag_gate_allow_moved": True},
        play={
            "post_tasks": [
                {
                    "name": "Show what moved",
                    "ansible.builtin.debug": {"msg": f"MOVED:{{{{ {PUBLISHED} | to_json | b64encode }}}}"},
                }
            ]
        },
    )
    assert run.rc == 0, run.output
    assert sorted(run.deployed) == ["h001", "h002", "h003"]
    published = [json.loads(base64.b64decode(text)) for text in re.findall(r"MOVED:([A-Za-z0-9+/=]+)", run.output)]
    expected = {"moved": {reference: repo.second}, "pinned": {reference: f"{repo.name}:1.0.0@{repo.second}"}}
    assert published == [expected] * 3
