"""Gating and selection against the kit's real registry (the private repository's tags are the fixture)."""

from __future__ import annotations

import threading
import time
import typing as t
import uuid
from pathlib import Path

import pytest

from tests.kit.seed import Pusher

from .conftest import run_module, run_playbook

PLAYBOOKS = Path(__file__).parent / "playbooks"


def private(kit: dict[str, t.Any], suffix: str = "") -> str:
    return f"{kit['token_registry']}/private/app{suffix}"


def alice(kit: dict[str, t.Any]) -> dict[str, str]:
    return {"username": "alice", "password": kit["users"]["alice"], "ca_path": kit["ca"]}


def registry_requests(kit: dict[str, t.Any], since: int) -> list[str]:
    log = (Path(kit["dir"]) / "token_registry.log").read_text()[since:]
    return [line.split('"')[1].rsplit(" ", 1)[0] for line in log.splitlines() if line.startswith("127.0.0.1 - - [")]


def log_size(kit: dict[str, t.Any], name: str = "token_registry.log") -> int:
    return (Path(kit["dir"]) / name).stat().st_size


def test_existence_alone_is_one_head_request(kit: dict[str, t.Any]) -> None:
    since = log_size(kit)
    run = run_module({"images": [private(kit, ":1.5.0")], "list_tags": False, **alice(kit)})
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert (image["exists"], image["digest"], image["tags"]) == (True, kit["repos"]["private/app"]["1.5.0"], None)
    assert run.result["ansible_facts"]["image_tags"] == {}
    # The challenge, then the one HEAD that answers; no tag listing.
    assert registry_requests(kit, since) == [
        "HEAD /v2/private/app/manifests/1.5.0",
        "HEAD /v2/private/app/manifests/1.5.0",
    ]


def test_fail_on_missing_names_the_nearest_tags(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [private(kit, ":1.4.2")], "fail_on_missing": True, **alice(kit)})
    assert run.rc != 0
    assert run.result["msg"] == f"1.4.2 not found in {private(kit)}; nearest: 1.4.1, 1.5.0"
    assert run.result["missing"] == [private(kit, ":1.4.2")]
    assert run.result["images"][0]["nearest"] == ["1.4.1", "1.5.0"]


def test_fail_on_missing_lists_every_missing_tag(kit: dict[str, t.Any]) -> None:
    public = f"{kit['token_registry']}/public/hello"
    run = run_module(
        {
            "images": [private(kit, ":1.4.2"), private(kit, ":1.5.0"), f"{public}:1.2", f"{public}:lastest"],
            "fail_on_missing": True,
            "list_tags": False,
            **alice(kit),
        }
    )
    assert run.result["msg"] == (
        f"3 tags not found: 1.4.2 not found in {private(kit)} (nearest: 1.4.1, 1.5.0); "
        f"1.2 not found in {public} (nearest: 1.1, 2.0); lastest not found in {public} (nearest: latest)"
    )


def test_fail_on_missing_in_a_repository_that_does_not_exist(kit: dict[str, t.Any]) -> None:
    missing = f"{kit['token_registry']}/private/never-pushed:1.0"
    run = run_module({"images": [missing], "fail_on_missing": True, "list_tags": False, **alice(kit)})
    assert run.result["msg"] == (
        f"1.0 not found in {kit['token_registry']}/private/never-pushed; "
        "the repository does not exist or is not visible to these credentials"
    )


def test_present_tags_pass_the_gate(kit: dict[str, t.Any]) -> None:
    run = run_module(
        {"images": [private(kit, ":1.4.1"), private(kit, ":v2.1.1")], "fail_on_missing": True, **alice(kit)}
    )
    assert run.rc == 0, run.output
    assert [image["exists"] for image in run.result["images"]] == [True, True]


def test_missing_digest_fails_the_gate(kit: dict[str, t.Any]) -> None:
    absent = "sha256:" + "1" * 64
    run = run_module({"images": [private(kit, f"@{absent}")], "fail_on_missing": True, **alice(kit)})
    assert run.result["msg"] == f"{absent} not found in {private(kit)}"


def push_later(kit: dict[str, t.Any], name: str, tag: str, delay: float) -> threading.Thread:
    def push() -> None:
        time.sleep(delay)
        pusher = Pusher(kit)
        session = pusher.session()
        body, media_type = pusher.image(session, name, tag)
        pusher.manifest(session, name, tag, body, media_type)

    thread = threading.Thread(target=push)
    thread.start()
    return thread


def test_wait_for_a_tag_pushed_during_the_wait(kit: dict[str, t.Any]) -> None:
    # A repository of its own: it does not exist yet when the wait starts.
    name = f"private/pending-{uuid.uuid4().hex[:8]}"
    pusher = push_later(kit, name, "1.0.0", delay=3)
    started = time.monotonic()
    run = run_module(
        {"images": [f"{kit['token_registry']}/{name}:1.0.0"], "wait_timeout": 60, "wait_interval": 1, **alice(kit)}
    )
    pusher.join()
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert image["exists"] is True
    assert image["digest"].startswith("sha256:")
    # The tag list is read after the wait, so it holds the new tag.
    assert image["tags"] == ["1.0.0"]
    assert time.monotonic() - started < 40


def test_wait_times_out_with_a_clear_failure(kit: dict[str, t.Any]) -> None:
    run = run_module(
        {"images": [private(kit, ":9.9.9")], "wait_timeout": 2, "wait_interval": 0.5, "list_tags": False, **alice(kit)}
    )
    assert run.rc != 0
    assert run.result["msg"].startswith(f"9.9.9 not found in {private(kit)}; nearest: 3 (after waiting 2")


class Selected(t.NamedTuple):
    options: dict[str, t.Any]
    tags: list[str]
    latest: str | None


SELECTIONS = [
    Selected(
        {"constraint": ">=1.2,<2"}, ["1.2.0", "1.4.1", "1.5.0", "1.9.0", "1.10.0", "1.10.0_build.7"], "1.10.0_build.7"
    ),
    Selected({"constraint": ">=2.0.0-rc.1,<2.1", "prereleases": True}, ["2.0.0-rc.1", "2.0.0-rc.2", "2.0.0"], "2.0.0"),
    Selected({"include": ["v.*"], "reverse": True}, ["v2.1.1", "v2.1.0"], "v2.1.1"),
    Selected(
        {"include": ["1[.].*"], "exclude": [".*-.*", ".*_.*"], "reverse": True, "limit": 3},
        ["1.10.0", "1.9.0", "1.5.0"],
        "1.10.0",
    ),
    Selected({"include": ["sha-.*"], "sort": "lexical"}, ["sha-1a2b3c4", "sha-deadbee"], None),
    Selected({"include": ["[0-9].*"], "sort": "version", "limit": 4}, ["0.9.0", "1.0.0", "1.0.0_hotfix", "1.0.1"], "3"),
]


@pytest.mark.parametrize("case", SELECTIONS, ids=[str(c.options) for c in SELECTIONS])
def test_selection_in_the_module(kit: dict[str, t.Any], case: Selected) -> None:
    run = run_module({"images": [private(kit)], **case.options, **alice(kit)})
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert (image["tags"], image["latest"]) == (case.tags, case.latest)
    assert run.result["ansible_facts"]["image_tags"] == {private(kit): case.tags}


def test_default_order_is_versions_then_other_tags(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [private(kit)], **alice(kit)})
    tags = run.result["images"][0]["tags"]
    assert tags[:5] == ["0.9.0", "1.0.0", "1.0.0_hotfix", "1.0.1", "1.1.0-rc.1"]
    assert tags[-8:] == [
        "edge",
        "latest",
        "multi",
        "nightly-20261128",
        "release-candidate",
        "sha-1a2b3c4",
        "sha-deadbee",
        "stable",
    ]
    assert run.result["images"][0]["latest"] == "3"


def test_bad_selection_options_fail_before_any_request(kit: dict[str, t.Any]) -> None:
    since = log_size(kit)
    run = run_module({"images": [private(kit)], "include": ["(oops"], **alice(kit)})
    assert run.result["msg"].startswith("include pattern '(oops' is not a valid regular expression")
    run = run_module({"images": [private(kit)], "constraint": "~>1.2", **alice(kit)})
    assert run.result["msg"].startswith("version constraint '~>1.2': cannot read clause '~>1.2'")
    run = run_module({"images": [private(kit)], "sort": "semver", **alice(kit)})
    assert "value of sort must be one of: version, lexical, none" in run.result["msg"]
    # 0 used to become 10 s silently.
    run = run_module({"images": [private(kit, ":9.9.9")], "wait_timeout": 5, "wait_interval": 0, **alice(kit)})
    assert run.result["msg"] == "wait_interval must be more than 0, got 0"
    run = run_module({"images": [private(kit)], "wait_timeout": -1, **alice(kit)})
    assert run.result["msg"] == "wait_timeout must be 0 or more, got -1; 0 checks once, without waiting"
    run = run_module({"images": [private(kit)], "concurrency": 0, **alice(kit)})
    assert run.result["msg"] == "concurrency must be between 1 and 64, got 0; 1 asks one image after the other"
    assert registry_requests(kit, since) == []


def test_many_images_share_the_session_and_tokens(kit: dict[str, t.Any]) -> None:
    registry_since, token_since = log_size(kit), log_size(kit, "token-server.log")
    run = run_module(
        {
            "images": [
                private(kit, ":1.0.0"),
                private(kit, ":2.0.0"),
                private(kit),
                f"{kit['token_registry']}/public/hello:1.0",
            ],
            **alice(kit),
        }
    )
    assert run.rc == 0, run.output
    assert [image["exists"] for image in run.result["images"]] == [True, True, None, True]
    tokens = (Path(kit["dir"]) / "token-server.log").read_text()[token_since:].splitlines()
    # One token request carries both repositories' scopes, whatever the number of references and requests.
    assert len(tokens) == 1, tokens
    assert "'repository:private/app:pull'" in tokens[0] and "'repository:public/hello:pull'" in tokens[0]
    requests = registry_requests(kit, registry_since)
    assert requests.count("GET /v2/private/app/tags/list") == 1
    assert requests.count("GET /v2/public/hello/tags/list") == 1
    # Only the first request to the registry collected a 401; later ones sent their token up front.
    assert len(requests) == 1 + 3 + 2


def test_an_error_on_one_image_says_which(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [private(kit), f"{kit['token_registry']}/restricted/vault"], **alice(kit)})
    assert run.rc != 0
    assert run.result["msg"].startswith(f"{kit['token_registry']}/restricted/vault: GET ")


@pytest.mark.parametrize("inject", ["True", "False"], ids=["fact-injection-on", "fact-injection-off"])
def test_gating_playbook(kit_vars: str, inject: str) -> None:
    # ansible-core is retiring fact injection (INJECT_FACTS_AS_VARS): facts must compose either way.
    run = run_playbook(PLAYBOOKS / "gating.yml", "-e", kit_vars, env={"ANSIBLE_INJECT_FACT_VARS": inject})
    assert run.rc == 0, run.output
    assert "failed=0" in run.output, run.output
    assert "[DEPRECATION WARNING]" not in run.output, run.output


def test_waiting_on_a_repository_that_does_not_exist_says_it_waited(kit: dict[str, t.Any]) -> None:
    missing = f"{kit['token_registry']}/private/never-pushed:1.0"
    run = run_module({"images": [missing], "wait_timeout": 1, "wait_interval": 0.5, **alice(kit)})
    assert run.rc != 0
    assert run.result["msg"].startswith(
        f"1.0 not found in {kit['token_registry']}/private/never-pushed; "
        "the repository does not exist or is not visible to these credentials (after waiting 1"
    ), run.result["msg"]
    assert run.result["missing"] == [missing]
    assert run.result["images"][0]["tags"] is None


def test_a_missing_tag_in_a_missing_repository_is_reported_not_raised(kit: dict[str, t.Any]) -> None:
    missing = f"{kit['token_registry']}/private/never-pushed:1.0"
    run = run_module({"images": [missing], **alice(kit)})
    assert run.rc == 0, run.output
    assert (run.result["images"][0]["exists"], run.result["images"][0]["tags"]) == (False, None)
