"""The Event-Driven Ansible source tagscope.registry.image_tags, driven the way ansible-rulebook drives it: the file
loaded with runpy, ``main(queue, args)`` run as a task and cancelled at the end.

Against the kit's real registry: tags pushed, pushed again and deleted between polls, each test in a repository of
its own. The scripted fault server plays what the real registry will not do (429 with Retry-After).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import runpy
import subprocess
import sys
import time
import typing as t
import uuid
from pathlib import Path

import pytest
import yaml
from ansible.release import __version__ as ansible_core_version
from ansible.utils.collection_loader import AnsibleCollectionConfig

from ansible_collections.tagscope.registry.plugins.module_utils._registry.table import EVENTS, names
from tests.conftest import COLLECTIONS, REPO
from tests.kit.faults import FaultServer, Reply, Request, json_reply
from tests.kit.seed import Pusher

SOURCE_FILE = (
    COLLECTIONS / "ansible_collections/tagscope/registry/extensions/eda/plugins/event_source/image_tags.py"
).absolute()
LOGGER = "tagscope.registry.image_tags"
INTERVAL = 0.2
# How long a test waits for what should come within a few polls.
PATIENCE = 20.0
# A line of the registry's access log: method, path, status, user agent.
ACCESS = re.compile(r'^127\.0\.0\.1 - - \[[^\]]*\] "(\w+) (\S+) HTTP/[0-9.]+" (\d+) .*"([^"]*)"$', re.MULTILINE)

# Every option the table gives the event source (table.py, face "events"), and its own two.
ARGUMENTS = sorted({*names(face=EVENTS), "images", "interval", "emit_existing"})
# How ansible-core's argument checks, which the source's are, name the type of a value they cannot convert:
# "is of type str" from 2.19, "is of type <class 'str'>" before; users see the one of the ansible-core they have.
STR_TYPE = "str" if tuple(map(int, ansible_core_version.split(".")[:2])) >= (2, 19) else "<class 'str'>"

Main = t.Callable[[asyncio.Queue[t.Any], dict[str, t.Any]], t.Awaitable[None]]


@pytest.fixture
def source_module(monkeypatch: pytest.MonkeyPatch) -> dict[str, t.Any]:
    """The source file's namespace, loaded as ansible-rulebook loads it: runpy runs the file."""
    # ansible-rulebook's process has no collection loader; the tests' has, and its path hook claims every path under
    # a collection root, this file too: runpy would take the file for an import location and look for a __main__
    # module in it ("can't find '__main__' module"). Without that hook, as under ansible-rulebook, runpy runs it.
    finder = AnsibleCollectionConfig.collection_finder
    hooks = [hook for hook in sys.path_hooks if getattr(hook, "__self__", None) is not finder]
    monkeypatch.setattr(sys, "path_hooks", hooks)
    monkeypatch.delitem(sys.path_importer_cache, str(SOURCE_FILE), raising=False)
    return runpy.run_path(str(SOURCE_FILE))


@pytest.fixture
def main(source_module: dict[str, t.Any]) -> Main:
    """The source's entry point."""
    return source_module["main"]


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)


# --- the kit's registry ---------------------------------------------------------------------------------------------


class Repo:
    """A repository of the kit's token registry that only one test uses; pushes and deletes as the kit's admin."""

    def __init__(self, kit: dict[str, t.Any], prefix: str) -> None:
        self.kit = kit
        self.repository = f"private/{prefix}-{uuid.uuid4().hex[:8]}"
        self.name = f"{kit['token_registry']}/{self.repository}"
        self.pusher = Pusher(kit)

    def push(self, tag: str, label: str | None = None) -> str:
        """Push a new image (its config names ``label``) as ``tag``; its digest."""
        session = self.pusher.session()
        body, media_type = self.pusher.image(session, self.repository, label or f"{tag}-{uuid.uuid4().hex}")
        return self.pusher.manifest(session, self.repository, tag, body, media_type)

    def delete(self, digest: str) -> None:
        """Delete the manifest ``digest``, and with it the tags that name it."""
        session = self.pusher.session()
        token = session.get(
            self.pusher.realm,
            params={"service": self.pusher.service, "scope": f"repository:{self.repository}:pull,push,delete"},
            auth=self.pusher.auth,
            timeout=30,
        ).json()["token"]
        response = session.delete(
            f"{self.pusher.base}/v2/{self.repository}/manifests/{digest}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 202, response.text

    def args(self, *images: str, **more: t.Any) -> dict[str, t.Any]:
        """Arguments as a rulebook gives them: alice's credentials, the kit's CA, a short interval."""
        return {
            "images": list(images) or [self.name],
            "username": "alice",
            "password": self.kit["users"]["alice"],
            "ca_path": self.kit["ca"],
            "interval": INTERVAL,
            **more,
        }


def event(kind: str, image: str, tag: str, digest: str | None, previous: str | None = None) -> dict[str, t.Any]:
    pinned = f"{image}:{tag}@{digest}" if kind != "removed" and digest else None
    return {
        "image_tags": {
            "event": kind,
            "image": image,
            "tag": tag,
            "digest": digest,
            "previous_digest": previous,
            "pinned": pinned,
        }
    }


# --- driving main() -------------------------------------------------------------------------------------------------


class Source:
    """``main(queue, args)`` running as a task, and what a test asks of it."""

    def __init__(self, main: Main, args: dict[str, t.Any], caplog: pytest.LogCaptureFixture) -> None:
        self.queue: asyncio.Queue[t.Any] = asyncio.Queue()
        self.task = asyncio.create_task(main(self.queue, args))
        self.caplog = caplog

    def polls(self, image: str) -> int:
        """Polls of ``image`` that succeeded so far (the source logs each at debug level)."""
        prefix = f"{LOGGER}: {image} polled, "
        return sum(1 for record in self.caplog.records if record.getMessage().startswith(prefix))

    def errors(self) -> list[str]:
        return [record.getMessage() for record in self.caplog.records if record.levelno >= logging.ERROR]

    async def until(self, condition: t.Callable[[], bool], what: str) -> None:
        await eventually(condition, what, source=self.task)

    async def polled(self, image: str, more: int = 1) -> None:
        """Wait for ``more`` polls of ``image`` after those done so far."""
        target = self.polls(image) + more
        await self.until(lambda: self.polls(image) >= target, f"{more} more poll(s) of {image}")

    async def events(self, count: int) -> list[dict[str, t.Any]]:
        """The next ``count`` events."""
        return [await asyncio.wait_for(self.queue.get(), PATIENCE) for _unused in range(count)]

    def nothing_more(self) -> None:
        assert self.queue.empty(), f"unexpected event: {self.queue.get_nowait()}"

    async def stop(self) -> None:
        """Cancel it as ansible-rulebook does at shutdown; it must end at once, cancelled."""
        self.task.cancel()
        done, _pending = await asyncio.wait({self.task}, timeout=2)
        assert done, "the source goes on after it was cancelled"
        assert self.task.cancelled(), self.task


async def eventually(condition: t.Callable[[], bool], what: str, *, source: asyncio.Task[None] | None = None) -> None:
    """Wait until ``condition()`` holds; fail if the source ends meanwhile, or after PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert source is None or not source.done(), f"the source ended while waiting for {what}: {source}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


def by_tag(events: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return sorted(events, key=lambda e: (e["image_tags"]["tag"], e["image_tags"]["event"]))


def test_new_moved_and_removed_tags_are_one_event_each(
    main: Main, kit: dict[str, t.Any], caplog: pytest.LogCaptureFixture
) -> None:
    repo = Repo(kit, "watched")
    first = repo.push("1.0.0", "first")
    other = repo.push("1.1.0", "other")

    async def scenario() -> None:
        source = Source(main, repo.args(repo.name, f"{repo.name}:1.0.0"), caplog)
        # The first poll records what exists: no event.
        await source.polled(repo.name)
        source.nothing_more()

        newer = await asyncio.to_thread(repo.push, "1.2.0", "newer")
        second = await asyncio.to_thread(repo.push, "1.0.0", "second")
        changes = by_tag(await source.events(2))
        assert changes == [
            event("moved", repo.name, "1.0.0", second, previous=first),
            event("new_tag", repo.name, "1.2.0", newer),
        ]

        # 1.1.0 was there before the source started and was never read: its digest is not known.
        await asyncio.to_thread(repo.delete, other)
        assert await source.events(1) == [event("removed", repo.name, "1.1.0", None)]
        await asyncio.to_thread(repo.delete, newer)
        assert await source.events(1) == [event("removed", repo.name, "1.2.0", newer)]

        # Nothing changes, nothing is sent.
        await source.polled(repo.name, 3)
        source.nothing_more()
        assert source.errors() == []
        await source.stop()

    asyncio.run(scenario())


def test_emit_existing_sends_every_tag_at_the_first_poll(
    main: Main, kit: dict[str, t.Any], caplog: pytest.LogCaptureFixture
) -> None:
    repo = Repo(kit, "existing")
    one = repo.push("1.0.0")
    two = repo.push("2.0.0-rc.1")
    three = repo.push("latest")

    async def scenario() -> None:
        source = Source(main, repo.args(emit_existing=True), caplog)
        assert await source.events(3) == [
            event("new_tag", repo.name, "1.0.0", one),
            event("new_tag", repo.name, "2.0.0-rc.1", two),
            event("new_tag", repo.name, "latest", three),
        ]
        await source.polled(repo.name, 2)
        source.nothing_more()
        await source.stop()

    asyncio.run(scenario())


def test_selection_decides_which_tags_are_watched(
    main: Main, kit: dict[str, t.Any], caplog: pytest.LogCaptureFixture
) -> None:
    """include/exclude/constraint/prereleases as in the module: only 1.x releases here; a named tag is watched
    whatever the selection."""
    repo = Repo(kit, "selected")
    repo.push("1.0.0")
    latest = repo.push("latest")

    async def scenario() -> None:
        args = repo.args(repo.name, f"{repo.name}:latest", constraint=">=1,<2")
        source = Source(main, args, caplog)
        await source.polled(repo.name)
        pushed = {}
        for tag in ("2.0.0", "1.1.0-rc.1", "1.1.0", "nightly"):
            pushed[tag] = await asyncio.to_thread(repo.push, tag)
        moved = await asyncio.to_thread(repo.push, "latest")
        assert by_tag(await source.events(2)) == [
            event("new_tag", repo.name, "1.1.0", pushed["1.1.0"]),
            event("moved", repo.name, "latest", moved, previous=latest),
        ]
        await source.polled(repo.name, 2)
        source.nothing_more()
        await source.stop()

    asyncio.run(scenario())


def test_a_pinned_reference_that_moved_before_the_start_is_reported(
    main: Main, kit: dict[str, t.Any], caplog: pytest.LogCaptureFixture
) -> None:
    """name:tag@digest is what the user last saw: a tag that names another image now is news at the first poll."""
    repo = Repo(kit, "pinned")
    first = repo.push("1.0.0", "first")
    second = repo.push("1.0.0", "second")
    kept = repo.push("1.1.0")
    absent = "sha256:" + "1" * 64

    async def scenario() -> None:
        images = [f"{repo.name}:1.0.0@{first}", f"{repo.name}:1.1.0@{kept}", f"{repo.name}:0.9.0@{absent}"]
        source = Source(main, repo.args(*images), caplog)
        assert await source.events(2) == [
            event("moved", repo.name, "1.0.0", second, previous=first),
            event("removed", repo.name, "0.9.0", absent),
        ]
        await source.polled(repo.name, 2)
        source.nothing_more()
        await source.stop()

    asyncio.run(scenario())


def test_a_repository_that_does_not_exist_yet_reports_its_first_push(
    main: Main, kit: dict[str, t.Any], caplog: pytest.LogCaptureFixture
) -> None:
    repo = Repo(kit, "future")

    async def scenario() -> None:
        source = Source(main, repo.args(), caplog)
        await source.polled(repo.name, 2)
        source.nothing_more()
        digest = await asyncio.to_thread(repo.push, "0.1.0")
        assert await source.events(1) == [event("new_tag", repo.name, "0.1.0", digest)]
        await source.stop()
        assert source.errors() == []
        logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
        assert [level for level, _message in logged] == ["WARNING", "INFO"], logged
        assert "not found" in logged[0][1]
        assert logged[1][1] == f"{LOGGER}: {repo.name} is there now"

    asyncio.run(scenario())


def test_a_poll_costs_one_listing_and_a_head_per_named_or_new_tag(
    main: Main, kit: dict[str, t.Any], caplog: pytest.LogCaptureFixture
) -> None:
    """What the registry and the token server see: one token for the life of the source, then per poll one tag
    list and one HEAD for the named tag; a new tag is read once."""
    repo = Repo(kit, "cost")
    repo.push("1.0.0")
    repo.push("1.1.0")
    registry_log = Path(kit["dir"]) / "token_registry.log"
    token_log = Path(kit["dir"]) / "token-server.log"
    listing = f"GET /v2/{repo.repository}/tags/list"

    def requests_since(offset: int) -> list[str]:
        """``GET /v2/.../tags/list 200``: the registry's access log, requests from tagscope.registry only (not the
        test's pushes)."""
        text = registry_log.read_text()[offset:]
        return [f"{m[1]} {m[2]} {m[3]}" for m in ACCESS.finditer(text) if m[4] == "tagscope.registry"]

    async def scenario() -> None:
        offsets = registry_log.stat().st_size, token_log.stat().st_size
        source = Source(main, repo.args(repo.name, f"{repo.name}:1.0.0"), caplog)
        await source.polled(repo.name, 3)
        await source.stop()
        head = f"HEAD /v2/{repo.repository}/manifests/1.0.0"
        # The first request collects the challenge; every later one carries the token.
        expected = [f"{listing} 401", f"{listing} 200", f"{head} 200", *[f"{listing} 200", f"{head} 200"] * 2]
        # The registry writes its access log as it answers: it may lag a little behind the replies.
        await eventually(lambda: len(requests_since(offsets[0])) >= len(expected), "the access log")
        assert requests_since(offsets[0])[: len(expected)] == expected
        tokens = [line for line in token_log.read_text()[offsets[1] :].splitlines() if "/token" in line]
        assert len(tokens) == 1, tokens
        assert "user='alice'" in tokens[0]

        offset = registry_log.stat().st_size
        source = Source(main, repo.args(repo.name), caplog)
        await source.polled(repo.name)
        digest = await asyncio.to_thread(repo.push, "1.2.0")
        assert await source.events(1) == [event("new_tag", repo.name, "1.2.0", digest)]
        await source.polled(repo.name, 2)
        await source.stop()
        new = f"HEAD /v2/{repo.repository}/manifests/1.2.0 200"
        await eventually(lambda: new in requests_since(offset), "the access log")
        seen = [line for line in requests_since(offset) if not line.endswith(" 401")]
        # Listings, and one HEAD: the new tag's, once.
        assert [line for line in seen if not line.startswith(listing)] == [new]
        assert len(seen) >= 4

    asyncio.run(scenario())


def test_credentials_come_from_the_environment_as_for_the_module(
    main: Main, kit: dict[str, t.Any], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TAGSCOPE_REGISTRY_USERNAME/PASSWORD, as docs/rulebook.yml relies on; the repository is private."""
    repo = Repo(kit, "environ")
    digest = repo.push("1.0.0")
    args = {"images": [repo.name], "ca_path": kit["ca"], "interval": INTERVAL, "emit_existing": True}

    async def scenario() -> None:
        # Anonymous: the registry will not show the repository; said once, however many polls.
        source = Source(main, args, caplog)
        await source.polled(repo.name, 3)
        await source.stop()
        source.nothing_more()
        (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warning.startswith(f"{LOGGER}: {repo.name}: GET https://{kit['token_registry']}/v2/"), warning
        assert warning.endswith("; watching for its first push"), warning

        monkeypatch.setenv("TAGSCOPE_REGISTRY_USERNAME", "alice")
        monkeypatch.setenv("TAGSCOPE_REGISTRY_PASSWORD", kit["users"]["alice"])
        source = Source(main, args, caplog)
        assert await source.events(1) == [event("new_tag", repo.name, "1.0.0", digest)]
        await source.stop()
        # Never the password, in any record.
        assert not [r for r in caplog.records if kit["users"]["alice"] in r.getMessage()]

    asyncio.run(scenario())


def test_the_sample_rulebook_gives_arguments_the_source_takes(source_module: dict[str, t.Any]) -> None:
    rulebook = yaml.safe_load((REPO / "docs" / "rulebook.yml").read_text())
    (source,) = rulebook[0]["sources"]
    params = source_module["_checked"](source["tagscope.registry.image_tags"])
    assert (params["interval"], params["emit_existing"], params["constraint"]) == (300.0, False, ">=1,<2")
    (rule_playbook,) = {
        rule["action"]["run_playbook"]["name"] for rule in rulebook[0]["rules"] if "run_playbook" in rule["action"]
    }
    assert (REPO / "docs" / rule_playbook).is_file()


def test_every_argument_is_documented(source_module: dict[str, t.Any]) -> None:
    """In the source's DOCUMENTATION and in the guide's table of arguments: the table of options may grow."""
    documentation = source_module["DOCUMENTATION"]
    guide = (REPO / "docs" / "event-driven-ansible.md").read_text()
    table = guide[guide.index("| Argument |") : guide.index("\n\n", guide.index("| Argument |"))]
    for name in ARGUMENTS:
        assert f"O({name})" in documentation or f"\n  {name}:\n" in documentation, name
        assert f"`{name}`" in table, name


def test_the_guide_shows_the_sample_files_as_they_are() -> None:
    guide = (REPO / "docs" / "event-driven-ansible.md").read_text()
    for name in ("rulebook.yml", "deploy-on-tag.yml"):
        assert f"```yaml\n{(REPO / 'docs' / name).read_text()}```" in guide, name


# --- failures -------------------------------------------------------------------------------------------------------


def closed_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_registry_that_is_down_is_logged_and_polled_again_with_backoff(
    main: Main, caplog: pytest.LogCaptureFixture
) -> None:
    host = f"127.0.0.1:{closed_port()}"
    image = f"{host}/team/app"

    async def scenario() -> None:
        source = Source(main, {"images": [image], "interval": 0.05, "timeout": 5}, caplog)
        await source.until(lambda: len(source.errors()) >= 4, "four failed polls")
        await source.stop()
        errors = source.errors()
        assert errors[0].startswith(f"{LOGGER}: {image}: GET https://{host}/v2/team/app/tags/list:")
        assert "cannot connect" in errors[0]
        waits = [float(re.search(r"next try in ([0-9.]+) s$", error).group(1)) for error in errors[:4]]
        # Doubling: a registry that is down is not asked in a tight loop.
        assert waits == [0.05, 0.1, 0.2, 0.4]
        assert source.queue.empty()

    asyncio.run(scenario())


class RateLimited:
    """A registry behind a Bearer challenge with tags 1.0, then a 429 with Retry-After, then tags 1.0 and 1.1."""

    RETRY_AFTER = 1

    def __init__(self) -> None:
        self.listings = 0
        self.limited_at: float | None = None
        self.times: list[tuple[float, Request]] = []

    def __call__(self, request: Request) -> Reply:
        self.times.append((time.monotonic(), request))
        if request.path == "/token":
            return json_reply({"token": "tok-1", "expires_in": 3600})
        if request.header("Authorization") != "Bearer tok-1":
            return json_reply({"errors": []}, 401, [("WWW-Authenticate", 'Bearer realm="/token",service="faults"')])
        if "/manifests/" in request.path:
            return Reply(200, b"", [("Docker-Content-Digest", "sha256:" + "b" * 64)])
        self.listings += 1
        if self.listings == 2:
            self.limited_at = time.monotonic()
            body = {"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]}
            return json_reply(body, 429, [("Retry-After", str(self.RETRY_AFTER))])
        return json_reply({"name": "team/app", "tags": ["1.0"] if self.listings == 1 else ["1.0", "1.1"]})


def test_retry_after_is_honoured_and_connections_and_tokens_are_kept(
    main: Main, faults: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    registry = RateLimited()
    faults.handler = registry
    image = f"{faults.host}/team/app"

    async def scenario() -> None:
        # retries 0: the transport gives the 429 back at once, so the source itself must wait.
        source = Source(main, {"images": [image], "ca_path": faults.ca, "interval": 0.05, "retries": 0}, caplog)
        assert await source.events(1) == [event("new_tag", image, "1.1", "sha256:" + "b" * 64)]
        await source.polled(image, 2)
        await source.stop()
        (error,) = source.errors()
        assert "429" in error
        assert error.endswith(f"next try in {registry.RETRY_AFTER:g} s")
        assert registry.limited_at is not None
        after = [at for at, _request in registry.times if at > registry.limited_at]
        assert min(after) - registry.limited_at >= registry.RETRY_AFTER
        # One token and one connection for every poll.
        assert [r.path for _at, r in registry.times].count("/token") == 1
        assert len({r.port for _at, r in registry.times}) == 1

    asyncio.run(scenario())


def test_a_registry_low_on_pulls_is_warned_about_once(
    main: Main, faults: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    def registry(request: Request) -> Reply:
        if "/manifests/" in request.path:
            limits = [("RateLimit-Limit", "100;w=21600"), ("RateLimit-Remaining", "3;w=21600")]
            return Reply(200, b"", [("Docker-Content-Digest", "sha256:" + "c" * 64), *limits])
        return json_reply({"name": "team/app", "tags": ["1.0"]})

    faults.handler = registry
    image = f"{faults.host}/team/app"

    async def scenario() -> None:
        source = Source(main, {"images": [f"{image}:1.0"], "ca_path": faults.ca, "interval": 0.05}, caplog)
        await source.polled(image, 3)
        await source.stop()
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warnings == [
            f"{LOGGER}: registry rate limit running low: {faults.host}: 3 of 100 pulls left in its 21600 s window"
        ]

    asyncio.run(scenario())


# --- arguments ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            {"images": ["alpine"], "intervall": 10},
            "tagscope.registry.image_tags: unknown argument 'intervall' (did you mean 'interval'?); the arguments "
            f"are {', '.join(ARGUMENTS)}",
            id="unknown",
        ),
        pytest.param(
            {"images": ["alpine"], "sort": "lexical"},
            "tagscope.registry.image_tags: unknown argument 'sort'; the arguments are",
            id="module-only-option",
        ),
        pytest.param({}, "tagscope.registry.image_tags: missing required arguments: images", id="no-images"),
        pytest.param({"images": []}, "tagscope.registry.image_tags: images is empty", id="empty-images"),
        pytest.param(
            {"images": ["alpine"], "interval": "soon"},
            f"tagscope.registry.image_tags: argument 'interval' is of type {STR_TYPE} and we were unable to convert "
            "to float",
            id="interval-type",
        ),
        pytest.param(
            {"images": ["alpine"], "interval": 0},
            "tagscope.registry.image_tags: interval must be more than 0 seconds, got 0",
            id="interval-zero",
        ),
        pytest.param(
            {"images": ["alpine"], "emit_existing": "perhaps"},
            f"tagscope.registry.image_tags: argument 'emit_existing' is of type {STR_TYPE} and we were unable to "
            "convert to bool",
            id="emit-existing-type",
        ),
        pytest.param(
            {"images": ["alpine"], "username": "ci"},
            "tagscope.registry.image_tags: username and password go together, but password is not set",
            id="module-check",
        ),
        pytest.param(
            {"images": ["alpine"], "constraint": ">=1,<<2"},
            "tagscope.registry.image_tags: version constraint '>=1,<<2': cannot read clause '<<2'",
            id="selection-check",
        ),
        pytest.param(
            {"images": ["Alpine:1"]},
            "tagscope.registry.image_tags: image reference 'Alpine:1'",
            id="bad-reference",
        ),
        pytest.param(
            {"images": ["alpine@sha256:" + "a" * 64]},
            "tagscope.registry.image_tags: image reference 'alpine@sha256:aaaa",
            id="digest-only",
        ),
        pytest.param(
            {"images": ["alpine"], "ca_path": "/nonexistent/ca.pem"},
            "tagscope.registry.image_tags: ca_path '/nonexistent/ca.pem' does not exist",
            id="missing-ca",
        ),
        pytest.param(
            {"images": ["alpine", "ghcr.io/org/app"], "username": "ci", "password": "hunter2"},
            "tagscope.registry.image_tags: username and password given for images on 2 registries",
            id="credentials-scope",
        ),
    ],
)
def test_a_bad_argument_is_a_clear_error_before_any_request(
    main: Main, args: dict[str, t.Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("USERNAME", "PASSWORD", "TOKEN", "AUTH_REGISTRY"):
        monkeypatch.delenv(f"TAGSCOPE_REGISTRY_{name}", raising=False)

    async def scenario() -> None:
        with pytest.raises(ValueError) as raised:
            await asyncio.wait_for(main(asyncio.Queue(), args), 5)
        assert str(raised.value).startswith(message), str(raised.value)
        # Raised as is: ansible-rulebook logs the message, no chained traceback from inside the core.
        assert raised.value.__cause__ is None
        assert raised.value.__suppress_context__ or raised.value.__context__ is None

    asyncio.run(scenario())


def test_arguments_ansible_rulebook_adds_are_accepted(main: Main, caplog: pytest.LogCaptureFixture) -> None:
    """ansible-rulebook passes eda_feedback_queue to every source."""

    async def scenario() -> None:
        image = f"127.0.0.1:{closed_port()}/team/app"
        source = Source(main, {"images": [image], "eda_feedback_queue": asyncio.Queue(), "timeout": 5}, caplog)
        await source.until(lambda: len(source.errors()) >= 1, "the first poll")
        await source.stop()

    asyncio.run(scenario())


def test_the_source_loads_as_ansible_rulebook_loads_it() -> None:
    """ansible-rulebook runs the file with runpy, with no collection loader and the collection not on sys.path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "PYTHON"))}
    code = (
        "import asyncio, runpy, sys\n"
        "module = runpy.run_path(sys.argv[1])\n"
        "assert asyncio.iscoroutinefunction(module['main'])\n"
        "try:\n"
        "    asyncio.run(module['main'](asyncio.Queue(), {'images': ['alpine'], 'interval': -1}))\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(SOURCE_FILE)],
        capture_output=True,
        text=True,
        cwd="/",
        env=env,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "tagscope.registry.image_tags: interval must be more than 0 seconds, got -1\n"
