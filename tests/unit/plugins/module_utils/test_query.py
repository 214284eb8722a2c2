"""What a query returns and how a missing tag reads, against a small anonymous registry on loopback.

The kit's real registry answers the same questions in tests/integration; here every result and message is
compared in full, which is what mutation testing (docs/testing.md) asked for.
"""

from __future__ import annotations

import re
import time
import typing as t

import pytest
import requests

from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import Identity
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    ConfigurationError,
    NotFoundError,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions, QueryOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import MissingTagsError, query_images
from ansible_collections.tagscope.registry.plugins.module_utils._registry.select import Selection
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import make_session
from tests.kit.faults import FaultServer, Reply, Request, json_reply

NO_FILES = {"HOME": "/nonexistent"}


def digest(tag: str) -> str:
    return "sha256:" + (tag.encode().hex() * 64)[:64]


REPOSITORIES = {
    "org/app": ["1.0", "1.1", "2.0", "3.0", "latest"],
    "org/py": ["3.11", "3.12", "3.11-slim", "3.12-slim", "3.13-slim"],
}


def registry(request: Request) -> Reply:
    match = re.fullmatch(r"/v2/(.+)/(tags/list|manifests/(.+))", request.path)
    assert match is not None, request.path
    repository, _kind, reference = match.groups()
    tags = REPOSITORIES.get(repository)
    if tags is None:
        return json_reply({"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}, 404)
    if reference is None:
        return json_reply({"name": repository, "tags": tags})
    known = {digest(tag): tag for tag in tags}
    if reference in tags or reference in known:
        return Reply(200, b"", [("Docker-Content-Digest", reference if reference in known else digest(reference))])
    return json_reply({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}, 404)


@pytest.fixture
def server(faults: FaultServer) -> FaultServer:
    faults.handler = registry
    return faults


def query(server: FaultServer, names: list[str], **options: t.Any) -> list[dict[str, t.Any]]:
    client_options = ClientOptions(ca_path=server.ca, environ=NO_FILES)
    results = query_images([f"{server.host}/{name}" for name in names], client_options, QueryOptions.build(**options))
    return [result.as_dict() for result in results]


def refused(server: FaultServer, names: list[str], **options: t.Any) -> MissingTagsError:
    with pytest.raises(MissingTagsError) as caught:
        query(server, names, fail_on_missing=True, **options)
    return caught.value


def test_a_found_tag_in_full(server: FaultServer) -> None:
    (result,) = query(server, ["org/app:1.1"])
    assert result == {
        "reference": f"{server.host}/org/app:1.1",
        "name": f"{server.host}/org/app",
        "registry": server.host,
        "repository": "org/app",
        "tag": "1.1",
        "digest": digest("1.1"),
        "exists": True,
        "tags": ["1.0", "1.1", "2.0", "3.0", "latest"],
        "latest": "3.0",
        "pinned": f"{server.host}/org/app:1.1@{digest('1.1')}",
        "platforms": None,
        "moved": None,
        "expected_digest": None,
        "served_by": server.host,
    }
    assert [r.path for r in server.requests] == ["/v2/org/app/manifests/1.1", "/v2/org/app/tags/list"]


def test_a_tag_that_still_names_its_digest_costs_one_request(server: FaultServer) -> None:
    (result,) = query(server, [f"org/app:1.1@{digest('1.1')}"], list_tags=False)
    assert (result["exists"], result["moved"], result["digest_exists"]) == (True, False, True)
    assert (result["digest"], result["expected_digest"]) == (digest("1.1"), digest("1.1"))
    assert result["pinned"] == f"{server.host}/org/app:1.1@{digest('1.1')}"
    assert [r.path for r in server.requests] == ["/v2/org/app/manifests/1.1"]


def test_a_tag_that_names_another_digest_has_moved(server: FaultServer) -> None:
    (result,) = query(server, [f"org/app:1.1@{digest('1.0')}"], list_tags=False)
    assert (result["exists"], result["moved"], result["digest_exists"], result["pinned"]) == (False, True, True, None)
    assert (result["digest"], result["expected_digest"]) == (digest("1.1"), digest("1.0"))
    # The tag, then the digest written (is it still there?).
    assert [r.path for r in server.requests] == ["/v2/org/app/manifests/1.1", f"/v2/org/app/manifests/{digest('1.0')}"]


def test_a_moved_tag_fails_the_gate_naming_both_digests(server: FaultServer) -> None:
    error = refused(server, [f"org/app:1.1@{digest('1.0')}"], list_tags=False)
    assert str(error) == (
        f"1.1 in {server.host}/org/app moved: it now names {digest('1.1')}, the reference expects {digest('1.0')}"
    )
    assert [r.reference for r in error.missing] == [f"{server.host}/org/app:1.1@{digest('1.0')}"]


def test_a_moved_tag_is_not_waited_for(server: FaultServer) -> None:
    started = time.monotonic()
    error = refused(server, [f"org/app:1.1@{digest('1.0')}"], list_tags=False, wait_timeout=30, wait_interval=0.1)
    assert time.monotonic() - started < 5
    assert str(error).startswith(f"1.1 in {server.host}/org/app moved: ")


def test_allow_moved_passes_a_moved_tag_pinned_to_its_new_digest(server: FaultServer) -> None:
    (result,) = query(server, [f"org/app:1.1@{digest('1.0')}"], fail_on_missing=True, allow_moved=True)
    assert (result["exists"], result["moved"], result["digest"]) == (True, True, digest("1.1"))
    assert result["pinned"] == f"{server.host}/org/app:1.1@{digest('1.1')}"


def test_a_gone_tag_with_a_digest_says_where_the_digest_is(server: FaultServer) -> None:
    gone = "sha256:" + "7" * 64
    error = refused(server, [f"org/app:1.2@{digest('1.0')}", f"org/app:1.2@{gone}"], list_tags=False)
    assert str(error) == (
        f"2 tags not found: 1.2 not found in {server.host}/org/app (its digest {digest('1.0')} is still in the "
        f"repository; nearest: 1.1, 2.0); 1.2 not found in {server.host}/org/app (its digest {gone} is not in the "
        "repository; nearest: 1.1, 2.0)"
    )
    assert [(r.exists, r.moved, r.digest_exists) for r in error.results] == [
        (False, False, True),
        (False, False, False),
    ]


def test_an_untagged_reference_only_lists(server: FaultServer) -> None:
    (result,) = query(server, ["org/app"])
    assert (result["tag"], result["exists"], result["digest"], result["pinned"]) == (None, None, None, None)
    assert result["tags"] == ["1.0", "1.1", "2.0", "3.0", "latest"]
    assert [r.path for r in server.requests] == ["/v2/org/app/tags/list"]


def test_a_digest_reference_is_checked_and_pinned_without_a_tag(server: FaultServer) -> None:
    (result,) = query(server, [f"org/app@{digest('2.0')}"], list_tags=False)
    assert (result["exists"], result["tags"], result["pinned"]) == (
        True,
        None,
        f"{server.host}/org/app@{digest('2.0')}",
    )


def test_a_missing_tag_is_reported_with_its_nearest_when_not_required(server: FaultServer) -> None:
    (result,) = query(server, ["org/app:2.5"])
    assert (result["exists"], result["digest"], result["pinned"], result["nearest"]) == (
        False,
        None,
        None,
        ["2.0", "3.0"],
    )
    assert "missing_platforms" not in result


def test_reading_only_what_was_asked(server: FaultServer) -> None:
    (result,) = query(server, ["org/app:1.0"], list_tags=False)
    assert (result["exists"], result["tags"], result["latest"]) == (True, None, None)
    assert [r.path for r in server.requests] == ["/v2/org/app/manifests/1.0"]
    server.requests.clear()
    (result,) = query(server, ["org/app:1.0"], manifests=False)
    assert (result["exists"], result["digest"]) == (None, None)
    assert [r.path for r in server.requests] == ["/v2/org/app/tags/list"]


def test_a_repository_named_twice_is_listed_once(server: FaultServer) -> None:
    results = query(server, ["org/app:1.0", "org/app:2.0", "org/app"])
    assert [r["tags"] for r in results] == [["1.0", "1.1", "2.0", "3.0", "latest"]] * 3
    assert [r.path for r in server.requests].count("/v2/org/app/tags/list") == 1


def test_latest_stays_within_the_variant_of_the_reference(server: FaultServer) -> None:
    slim, plain = query(server, ["org/py:3.11-slim", "org/py:3.11"])
    assert (slim["latest"], plain["latest"]) == ("3.13-slim", "3.12")


def test_the_selection_shapes_tags_and_latest(server: FaultServer) -> None:
    (result,) = query(server, ["org/app"], selection=Selection.build(reverse=True, limit=2))
    assert (result["tags"], result["latest"]) == (["3.0", "2.0"], "3.0")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["org/app:2.5"], "2.5 not found in {host}/org/app; nearest: 2.0, 3.0"),
        (
            ["org/none:1.0"],
            "1.0 not found in {host}/org/none; the repository does not exist or is not visible to these credentials",
        ),
        ([f"org/app@{digest('9.9')}"], f"{digest('9.9')} not found in {{host}}/org/app"),
        (
            ["org/app:1.0", "org/app:2.5", "org/none:1.0"],
            "2 tags not found: 2.5 not found in {host}/org/app (nearest: 2.0, 3.0); 1.0 not found in {host}/org/none "
            "(the repository does not exist or is not visible to these credentials)",
        ),
    ],
    ids=["tag", "repository", "digest", "several"],
)
def test_missing_tags_in_full(server: FaultServer, names: list[str], message: str) -> None:
    error = refused(server, names)
    assert str(error) == message.format(host=server.host)
    assert error.context() == {}
    assert [m.reference for m in error.missing] == [f"{server.host}/{name}" for name in names if name != "org/app:1.0"]
    assert len(error.results) == len(names)


def test_a_missing_tag_still_missing_after_waiting(server: FaultServer) -> None:
    error = refused(server, ["org/app:2.5"], wait_timeout=0.3, wait_interval=0.1)
    assert re.fullmatch(r"2\.5 not found in \S+/org/app; nearest: 2\.0, 3\.0 \(after waiting 0\.[34] s\)", str(error))
    manifests = [r.path for r in server.requests if "/manifests/" in r.path]
    # Asked at once, then every 0.1 s until 0.3 s have passed.
    assert 3 <= len(manifests) <= 5


def test_waiting_raises_even_without_fail_on_missing(server: FaultServer) -> None:
    with pytest.raises(MissingTagsError):
        query(server, ["org/app:2.5"], wait_timeout=0.1, wait_interval=0.05)


def test_a_missing_repository_without_a_tag_is_an_error_naming_the_image(server: FaultServer) -> None:
    with pytest.raises(NotFoundError) as caught:
        query(server, ["org/none"])
    assert str(caught.value).startswith(f"{server.host}/org/none: GET https://{server.host}/v2/org/none/tags/list: 404")


@pytest.mark.parametrize(
    ("credentials", "auth_registry", "images", "message"),
    [
        (
            Identity(username="ci", password="pw"),
            None,
            ["ghcr.io/org/app", "quay.io/org/app"],
            "username and password given for images on 2 registries (ghcr.io, quay.io); explicit credentials are only "
            "ever sent to one registry; set auth_registry to the registry they belong to; images on the others use "
            "the docker or podman credential files, or anonymous access",
        ),
        (
            Identity(bearer_token="tok"),
            "docker.io",
            ["quay.io/org/app", "ghcr.io/org/app"],
            "auth_registry docker.io is not the registry of any image (ghcr.io, quay.io), so the token would go "
            "unused; set auth_registry to the registry of the images the credentials are for",
        ),
    ],
    ids=["two-registries", "auth-registry-unused"],
)
def test_explicit_credentials_without_a_clear_registry_are_refused_before_any_request(
    credentials: Identity, auth_registry: str | None, images: list[str], message: str
) -> None:
    options = ClientOptions(credentials=credentials, credentials_registry=auth_registry, environ=NO_FILES)
    with pytest.raises(ConfigurationError) as caught:
        query_images(images, options)
    assert str(caught.value) == message


def test_a_tag_pushed_while_waiting_is_found(faults: FaultServer) -> None:
    asked = {"count": 0}

    def handle(request: Request) -> Reply:
        if "/manifests/" in request.path:
            asked["count"] += 1
            if asked["count"] < 3:
                return json_reply({"errors": [{"code": "MANIFEST_UNKNOWN"}]}, 404)
        return registry(request)

    faults.handler = handle
    started = time.monotonic()
    (result,) = query(faults, ["org/app:1.0"], list_tags=False, wait_timeout=5, wait_interval=0.1)
    assert (result["exists"], result["digest"]) == (True, digest("1.0"))
    assert asked["count"] == 3
    assert time.monotonic() - started < 2


def test_waiting_stops_at_the_timeout_even_with_a_long_interval(server: FaultServer) -> None:
    started = time.monotonic()
    with pytest.raises(MissingTagsError):
        query(server, ["org/app:2.5"], list_tags=False, wait_timeout=0.3, wait_interval=30)
    assert time.monotonic() - started < 2
    assert len([r for r in server.requests if "/manifests/" in r.path]) == 2


def test_a_session_given_stays_open_for_the_next_query(server: FaultServer) -> None:
    # The lookup keeps its session between calls: the second query goes over the first one's connection.
    options = ClientOptions(ca_path=server.ca, environ=NO_FILES, concurrency=1)
    session = make_session()
    try:
        query_images([f"{server.host}/org/app:1.0"], options, session=session)
        query_images([f"{server.host}/org/py:3.12"], options, session=session)
        assert server.open_connections == 1
    finally:
        session.close()
    assert len(server.requests) == 4
    assert len({request.port for request in server.requests}) == 1


def test_a_session_of_its_own_is_closed_at_the_end(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.tagscope.registry.plugins.module_utils._registry import query as module  # noqa: PLC0415

    # Hold on to the session it makes, so that only closing it can close its connection.
    held: list[requests.Session] = []
    made = module.make_session
    monkeypatch.setattr(module, "make_session", lambda **kwargs: held.append(made(**kwargs)) or held[-1])
    query_images([f"{server.host}/org/app:1.0"], ClientOptions(ca_path=server.ca, environ=NO_FILES, concurrency=1))
    deadline = time.monotonic() + 2
    while server.open_connections and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (len(held), server.open_connections) == (1, 0)


def test_the_time_waited_is_said_in_tenths_of_a_second(server: FaultServer) -> None:
    error = refused(server, ["org/app:2.5"], list_tags=False, wait_timeout=0.25, wait_interval=0.1)
    # 0.25 s and a little more: 0.3 s, said with one decimal (a loaded machine may add a tenth or two).
    assert re.search(r"\(after waiting 0\.[3-9] s\)$", str(error)), str(error)
