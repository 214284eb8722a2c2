"""The token flow's own decisions: OAuth2 refresh grants, how many scopes one token asks for, what a refused token
costs, plain-http realms, and how long a token is kept.

Against the scripted server on loopback (tests/kit/faults.py); the kit's real registry is in tests/integration.
Many cases here were found by mutation testing (docs/testing.md).
"""

from __future__ import annotations

import base64
import time
import typing as t
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import Identity
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    AuthenticationError,
    NotFoundError,
    ProtocolError,
    RegistryError,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions, QueryOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import query_images
from ansible_collections.tagscope.registry.plugins.module_utils._registry.tokens import (
    TokenCache,
    issued_time,
    lifetime,
)
from tests.kit.bearer import DENIED, BearerRegistry, scopes_of
from tests.kit.faults import FaultServer, Reply, Request, json_reply
from tests.unit.ids import case_id

NO_FILES = {"HOME": "/nonexistent"}


def options(server: FaultServer, **more: t.Any) -> ClientOptions:
    more.setdefault("concurrency", 1)
    return ClientOptions(ca_path=server.ca if server.tls else None, timeout=5, environ=NO_FILES, **more)


def images(server: FaultServer, *names: str) -> list[str]:
    return [f"{server.host}/{name}" for name in names]


def form(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.body.decode())


def token_requests(server: FaultServer) -> list[Request]:
    return [r for r in server.requests if r.path == "/token"]


# --- OAuth2 refresh-token grant (an identitytoken from `az acr login`, or a helper's "<token>" user) ---


def test_identity_token_is_sent_as_an_oauth2_refresh_grant_for_every_scope(faults: FaultServer) -> None:
    faults.handler = BearerRegistry()
    results = query_images(
        images(faults, "org/app", "org/other"), options(faults, credentials=Identity(identity_token="rt-secret"))
    )
    assert [r.tags for r in results] == [["1.0"], ["1.0"]]
    (post,) = token_requests(faults)
    assert post.method == "POST"
    assert form(post) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["rt-secret"],
        "client_id": ["tagscope.registry"],
        "scope": ["repository:org/app:pull repository:org/other:pull"],
        "service": ["reg.example"],
    }
    # The refresh token goes to the token service only, and not in the URL.
    assert post.query == {}
    assert [r.header("Authorization") for r in faults.requests if r.path != "/token"] == [
        None,
        "Bearer tok-1",
        "Bearer tok-1",
    ]


def test_oauth2_grant_without_service(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="/token"')
    query_images(images(faults, "org/app"), options(faults, credentials=Identity(identity_token="rt-secret")))
    assert "service" not in form(token_requests(faults)[0])


@pytest.mark.parametrize(("status", "username", "user"), [(404, None, "<token>"), (405, "robot", "robot")], ids=case_id)
def test_without_oauth2_the_refresh_token_is_a_password(
    faults: FaultServer, status: int, username: str | None, user: str
) -> None:
    # ACR and others without the OAuth2 endpoint take the refresh token as a Basic password.
    faults.handler = BearerRegistry(oauth=status)
    identity = Identity(username=username, identity_token="rt-secret")
    results = query_images(images(faults, "org/app"), options(faults, credentials=identity))
    assert results[0].tags == ["1.0"]
    post, get = token_requests(faults)
    assert (post.method, get.method) == ("POST", "GET")
    assert get.header("Authorization") == "Basic " + base64.b64encode(f"{user}:rt-secret".encode()).decode()
    assert get.query == {"service": ["reg.example"], "scope": ["repository:org/app:pull"]}


def test_a_refused_refresh_token_is_an_authentication_error(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="/token?account=ci&secret=query-secret"', oauth=401)
    with pytest.raises(AuthenticationError) as caught:
        query_images(images(faults, "org/app"), options(faults, credentials=Identity(identity_token="rt-secret")))
    message = str(caught.value)
    assert message.startswith(
        f"{faults.host}/org/app: POST {faults.url}/token: 401 UNAUTHORIZED: the token server rejected the credentials "
        "of an identity token (authentication required)"
    )
    # The realm is named without its query, which may carry secrets; the refresh token is nowhere.
    assert "query-secret" not in message
    assert "rt-secret" not in message
    assert len(token_requests(faults)) == 1


def test_a_failing_token_service_is_named_without_its_query(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="/token?secret=query-secret"', token=Reply(500, b"boom"))
    with pytest.raises(RegistryError) as caught:
        query_images(images(faults, "org/app"), options(faults, retries=0))
    assert str(caught.value) == (
        f"{faults.host}/org/app: GET {faults.url}/token: 500 Internal Server Error (boom); the registry failed; try "
        "again later"
    )
    assert "query-secret" not in str(caught.value)


# --- How many scopes one token asks for ---


def test_one_token_asks_for_thirty_scopes_at_most(faults: FaultServer) -> None:
    faults.handler = BearerRegistry()
    names = [f"org/r{n:02d}" for n in range(32)]
    query_images(images(faults, *names), options(faults))
    asked = [scopes_of(r) for r in token_requests(faults)]
    # The first 30 in one token (the one asked about first leads), the other two in a second.
    assert asked == [
        [f"repository:{name}:pull" for name in names[:30]],
        [f"repository:{name}:pull" for name in names[30:]],
    ]


def test_a_scope_left_out_of_a_shared_token_is_asked_alone(faults: FaultServer) -> None:
    faults.handler = BearerRegistry(scopes_per_token=1)
    results = query_images(images(faults, "org/a", "org/b", "org/c"), options(faults))
    assert [r.tags for r in results] == [["1.0"]] * 3
    assert [scopes_of(r) for r in token_requests(faults)] == [
        ["repository:org/a:pull", "repository:org/b:pull", "repository:org/c:pull"],
        ["repository:org/b:pull"],
        ["repository:org/c:pull"],
    ]


def test_after_tokens_expire_a_scope_refused_in_a_shared_token_is_asked_alone_at_once(
    faults: FaultServer,
) -> None:
    # Two runs of one process (lookup calls in a long play) share the cache; between them the tokens expire.
    faults.handler = BearerRegistry(scopes_per_token=1)
    cache = TokenCache()
    names = images(faults, "org/a", "org/b")
    query_images(names, options(faults), cache=cache)
    for token in cache.tokens.values():
        token.expires_at = 0.0
    faults.requests.clear()
    query_images(names, options(faults), cache=cache)
    # org/b was refused in a shared token once: it is not put in one again, so no 401 insufficient_scope.
    assert [scopes_of(r) for r in token_requests(faults)] == [["repository:org/a:pull"], ["repository:org/b:pull"]]
    assert [r.header("Authorization") is None for r in faults.requests if r.path != "/token"] == [False, False]
    # Nor does it take others into a token of its own when it is asked about first.
    for token in cache.tokens.values():
        token.expires_at = 0.0
    faults.requests.clear()
    query_images(names[::-1], options(faults), cache=cache)
    assert [scopes_of(r) for r in token_requests(faults)] == [["repository:org/b:pull"], ["repository:org/a:pull"]]


def test_fresh_tokens_held_for_other_scopes_are_not_asked_again(faults: FaultServer) -> None:
    faults.handler = BearerRegistry()
    cache = TokenCache()
    query_images(images(faults, "org/a"), options(faults), cache=cache)
    faults.requests.clear()
    query_images(images(faults, "org/a", "org/b", "org/c"), options(faults), cache=cache)
    assert [scopes_of(r) for r in token_requests(faults)] == [["repository:org/b:pull", "repository:org/c:pull"]]


def test_a_token_is_never_sent_for_another_identity(faults: FaultServer) -> None:
    # Two runs of one process (lookup calls with other credentials) share the cache. The token server grants
    # org/private to alice alone: bob's run asks for tokens of its own, and is refused with them.
    server = faults.handler = BearerRegistry(grants={"alice": ["repository:org/private:pull"]})
    cache = TokenCache()
    alice = options(faults, credentials=Identity(username="alice", password="pw"))
    (result,) = query_images(images(faults, "org/private"), alice, cache=cache)
    assert result.tags == ["1.0"]
    bob = options(faults, credentials=Identity(username="bob", password="pw"))
    with pytest.raises(NotFoundError) as caught:
        query_images(images(faults, "org/private"), bob, cache=cache)
    assert str(caught.value) == (
        f"{faults.host}/org/private: GET {faults.url}/v2/org/private/tags/list: 401 UNAUTHORIZED (authentication "
        "required): repository not found or access denied for user 'bob'; check the repository name and that this "
        "user may pull it"
    )
    asked = ["repository:org/private:pull"]
    assert [(r.user, r.scopes) for r in server.token_requests] == [("alice", asked), ("bob", asked), ("bob", asked)]
    # alice's token never went out for bob.
    assert [r.header("Authorization") for r in faults.requests if r.path != "/token"] == [
        None,
        "Bearer tok-1",
        "Bearer tok-2",
        "Bearer tok-3",
    ]


def test_a_token_refused_under_concurrency_is_replaced_once(faults: FaultServer) -> None:
    # A token held from an earlier run (a lookup call) that the registry no longer takes; eight tags of its
    # repository asked at once. Every request refused with it waits for one new token instead of fetching its own.
    server = faults.handler = BearerRegistry(token_delay=0.2)
    cache = TokenCache()
    query_images(images(faults, "org/app:0"), options(faults), QueryOptions(list_tags=False), cache=cache)
    server.revoked.add("tok-1")
    faults.requests.clear()
    refs = images(faults, *[f"org/app:{n}" for n in range(1, 9)])
    results = query_images(refs, options(faults, concurrency=8), QueryOptions(list_tags=False), cache=cache)
    assert [r.exists for r in results] == [True] * 8
    assert len(token_requests(faults)) == 1
    assert sorted(set(r.header("Authorization") for r in faults.requests if r.path != "/token")) == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


# --- Plain-http registries (http_registries) and their realms ---


@pytest.fixture
def plain(fault_pki: Path) -> t.Iterator[FaultServer]:
    with FaultServer(fault_pki, tls=False) as server:
        yield server


def test_plain_http_realm_on_a_plain_http_registry_gets_the_credentials(plain: FaultServer) -> None:
    plain.handler = BearerRegistry(f'Bearer realm="http://{plain.host}/token"')
    identity = Identity(username="ci", password="pw")
    results = query_images(images(plain, "org/app"), options(plain, credentials=identity, http_registries=[plain.host]))
    assert results[0].tags == ["1.0"]
    assert token_requests(plain)[0].header("Authorization") == "Basic " + base64.b64encode(b"ci:pw").decode()


def test_plain_http_realm_on_another_host_is_fine_anonymously(plain: FaultServer) -> None:
    port = plain.host.rsplit(":", 1)[1]
    plain.handler = BearerRegistry(f'Bearer realm="http://localhost:{port}/token"')
    results = query_images(images(plain, "org/app"), options(plain, http_registries=[plain.host]))
    assert results[0].tags == ["1.0"]


def test_plain_http_realm_on_another_host_gets_no_credentials(plain: FaultServer) -> None:
    port = plain.host.rsplit(":", 1)[1]
    plain.handler = BearerRegistry(f'Bearer realm="http://localhost:{port}/token"')
    identity = Identity(username="ci", password="pw")
    with pytest.raises(ProtocolError) as caught:
        query_images(images(plain, "org/app"), options(plain, credentials=identity, http_registries=[plain.host]))
    assert str(caught.value) == (
        f"{plain.host}/org/app: token realm http://localhost:{port}/token is plain http on another host than the "
        "registry; refusing to send it credentials; serve the token service over TLS, or on the registry's own host"
    )
    assert token_requests(plain) == []


# --- How long a token is kept ---

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)


def _before(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"expires_in": 300}, 295.0),
        ({"expires_in": 300, "issued_at": _before(30)}, 265.0),
        ({"expires_in": 300, "issued_at": _before(0.5)}, 294.5),
        ({"expires_in": 300, "issued_at": _before(0)}, 295.0),
        # Issued as long ago as it lives, or longer, or in the future: not believed, counted as now.
        ({"expires_in": 300, "issued_at": _before(300)}, 295.0),
        ({"expires_in": 300, "issued_at": _before(-10)}, 295.0),
        ({"expires_in": 300, "issued_at": "0001-01-01T00:00:00Z"}, 295.0),
        ({"expires_in": 300, "issued_at": "0001-01-01T00:00:00+01:00"}, 295.0),
        ({"expires_in": 300, "issued_at": "not a date"}, 295.0),
        ({"expires_in": 300, "issued_at": 12345}, 295.0),
        # Plausible, but less left than the safety margin: not worth sending.
        ({"expires_in": 60, "issued_at": _before(58)}, 0.0),
        ({"expires_in": 10}, 55.0),  # less than 60 counts as 60
        ({"expires_in": "abc"}, 55.0),
        ({}, 55.0),
    ],
    ids=case_id,
)
def test_token_lifetime(body: dict[str, t.Any], expected: float) -> None:
    assert lifetime(body, now=NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-30T11:59:00Z",
        "2026-11-30T11:59:00z",
        "2026-11-30t11:59:00Z",
        "2026-11-30T11:59:00",  # no zone: UTC
        "2026-11-30T11:59:00.000000000Z",  # Go's RFC3339Nano, as Docker Hub writes it
        "2026-11-30T12:59:00+01:00",
        "2026-11-30T12:59:00+0100",
        "2026-11-30T10:59:00-01:00",
        "2026-11-30T17:29:00+05:30",  # a zone with minutes (India)
        "2026-11-30T06:14:00-0545",
    ],
    ids=case_id,
)
def test_issued_at_forms_token_servers_write(text: str) -> None:
    assert issued_time(text) == datetime(2026, 11, 30, 11, 59, 0, tzinfo=timezone.utc)


def test_issued_at_keeps_microseconds() -> None:
    assert issued_time("2026-11-30T11:59:00.123456789Z") == datetime(
        2026, 11, 30, 11, 59, 0, 123456, tzinfo=timezone.utc
    )
    assert issued_time("2026-11-30T11:59:00.5Z") == datetime(2026, 11, 30, 11, 59, 0, 500000, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-30", "2026-11-30T11:59:00Q"])
def test_issued_at_that_is_not_a_time(text: str) -> None:
    assert issued_time(text) is None


def test_a_token_is_kept_for_its_lifetime(faults: FaultServer) -> None:
    faults.handler = BearerRegistry()
    cache = TokenCache()
    before = time.monotonic()
    query_images(images(faults, "org/app"), options(faults), cache=cache)
    (token,) = list(cache.tokens.values())
    # {"token": ...} without expires_in: 60 s, minus the 5 s margin.
    assert before + 55 <= token.expires_at <= time.monotonic() + 55


def test_every_manifest_request_keeps_its_accept_types_through_the_token_flow(faults: FaultServer) -> None:
    # The first try, the retry with a token, and the retry with a replaced token: a retry without the Accept
    # header gets a schema1 manifest and a digest docker never shows.
    server = faults.handler = BearerRegistry()
    cache = TokenCache()
    query_images(images(faults, "org/app:1"), options(faults), QueryOptions(list_tags=False), cache=cache)
    server.revoked.add("tok-1")
    query_images(images(faults, "org/app:2"), options(faults), QueryOptions(list_tags=False), cache=cache)
    sent = [(r.header("Authorization"), r.header("Accept")) for r in faults.requests if r.path != "/token"]
    accept = (
        "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
        "application/vnd.docker.distribution.manifest.list.v2+json, "
        "application/vnd.docker.distribution.manifest.v2+json"
    )
    assert sent == [(None, accept), ("Bearer tok-1", accept), ("Bearer tok-1", accept), ("Bearer tok-2", accept)]


def test_a_tag_page_larger_than_an_error_body_is_read_after_the_challenge(faults: FaultServer) -> None:
    # The first request of a run is answered 401 and sent again with the token: the retry reads a whole page
    # (up to 16 MiB), not the 64 KiB an error body gets.
    tags = [f"1.0.{n}-build-{'x' * 20}" for n in range(4000)]
    faults.handler = BearerRegistry('Bearer realm="/token"', pages=[(tags, None)])
    (result,) = query_images(images(faults, "org/app"), options(faults))
    assert sorted(t.cast(list, result.tags)) == sorted(tags)


def test_a_large_oauth2_token_reply_is_read(faults: FaultServer) -> None:
    # Token replies are read up to 1 MiB (some carry long claims besides the token), not 64 KiB.
    faults.handler = BearerRegistry(
        'Bearer realm="/token"', token=json_reply({"access_token": "tok-big", "claims": "c" * (200 * 1024)})
    )
    identity = Identity(identity_token="rt-secret")
    (result,) = query_images(images(faults, "org/app"), options(faults, credentials=identity))
    assert result.tags == ["1.0"]


# --- A token given as an option (token:) goes to the registry as it is ---


def test_a_given_token_is_sent_as_it_is_with_the_request_headers(faults: FaultServer) -> None:
    tags = [f"1.0.{n}-{'x' * 20}" for n in range(4000)]
    tag = "1.0.1-" + "x" * 20
    faults.handler = BearerRegistry(
        'Bearer realm="/token"',
        accept={"Bearer given-tok"},
        pages=[(tags, None)],
        manifests={tag: Reply(200, b"", [("Docker-Content-Digest", "sha256:" + "d" * 64)])},
    )
    identity = Identity(bearer_token="given-tok", source="options")
    (result,) = query_images(images(faults, f"org/app:{tag}"), options(faults, credentials=identity))
    # A page over 64 KiB is read whole; the manifest request keeps its Accept types; no token is negotiated.
    assert (result.exists, len(t.cast(list, result.tags))) == (True, 4000)
    assert token_requests(faults) == []
    (head,) = [r for r in faults.requests if r.method == "HEAD"]
    assert (head.header("Accept") or "").startswith("application/vnd.oci.image.index.v1+json, ")


def test_a_given_token_the_registry_refuses(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="/token"')
    identity = Identity(bearer_token="given-tok", source="options")
    with pytest.raises(AuthenticationError) as caught:
        query_images(images(faults, "org/app"), options(faults, credentials=identity))
    assert str(caught.value) == (
        f"{faults.host}/org/app: GET {faults.url}/v2/org/app/tags/list: 401 UNAUTHORIZED (authentication required): "
        "the registry rejected the credentials of the given token; check the token"
    )
    assert len(faults.requests) == 1


def test_a_plain_http_realm_serves_a_later_run_after_its_tokens_expire(plain: FaultServer) -> None:
    plain.handler = BearerRegistry(f'Bearer realm="http://{plain.host}/token"')
    cache = TokenCache()
    run = options(plain, credentials=Identity(username="ci", password="pw"), http_registries=[plain.host])
    query_images(images(plain, "org/app"), run, cache=cache)
    for token in cache.tokens.values():
        token.expires_at = 0.0
    (result,) = query_images(images(plain, "org/app"), run, cache=cache)
    assert result.tags == ["1.0"]
    assert len(token_requests(plain)) == 2


# --- A 401 after the first request of a run ---


def test_threads_that_waited_for_the_first_token_still_get_their_scope(faults: FaultServer) -> None:
    # Three repositories at once; the token server grants one scope per token. The two requests that waited for
    # the first token are refused with it (insufficient_scope) and get tokens of their own.
    faults.handler = BearerRegistry(scopes_per_token=1, token_delay=0.2)
    results = query_images(images(faults, "org/a", "org/b", "org/c"), options(faults, concurrency=8))
    assert [r.tags for r in results] == [["1.0"]] * 3
    assert len(token_requests(faults)) == 3


def test_basic_credentials_refused_later_are_not_sent_again(faults: FaultServer) -> None:
    good = "Basic " + base64.b64encode(b"ci:pw").decode()

    def handle(request: Request) -> Reply:
        if request.header("Authorization") == good and "/org/a/" in request.path:
            return json_reply({"name": "org/a", "tags": ["1.0"]})
        return json_reply(DENIED, 401, [("WWW-Authenticate", 'Basic realm="registry"')])

    faults.handler = handle
    with pytest.raises(AuthenticationError) as caught:
        query_images(
            images(faults, "org/a", "org/b"), options(faults, credentials=Identity(username="ci", password="pw"))
        )
    assert str(caught.value) == (
        f"{faults.host}/org/b: GET {faults.url}/v2/org/b/tags/list: 401 UNAUTHORIZED (authentication required): the "
        "registry rejected the credentials of user 'ci'; check username and password"
    )
    assert [r.path for r in faults.requests] == ["/v2/org/a/tags/list", "/v2/org/a/tags/list", "/v2/org/b/tags/list"]


def test_a_new_challenge_replaces_the_old_one(faults: FaultServer) -> None:
    # The registry moves its token service mid-run: the token from the old one is refused with a challenge
    # naming the new one, which is where the next token comes from.
    moved = BearerRegistry('Bearer realm="/token2"', token_path="/token2", token=json_reply({"token": "tok-new"}))
    faults.handler = BearerRegistry(
        'Bearer realm="/token"', token=json_reply({"token": "tok-old"}), routes={"/v2/org/b/": moved, "/token2": moved}
    )
    results = query_images(images(faults, "org/a", "org/b"), options(faults))
    assert [r.tags for r in results] == [["1.0"], ["1.0"]]
    assert [r.path for r in token_requests(faults)] == ["/token"]
    assert [r.path for r in faults.requests if r.path == "/token2"] == ["/token2"]


def test_a_scope_refused_on_a_plain_http_registry_gets_its_own_token(plain: FaultServer) -> None:
    plain.handler = BearerRegistry(f'Bearer realm="http://{plain.host}/token"', scopes_per_token=1)
    run = options(plain, credentials=Identity(username="ci", password="pw"), http_registries=[plain.host])
    results = query_images(images(plain, "org/a", "org/b"), run)
    assert [r.tags for r in results] == [["1.0"], ["1.0"]]
    assert [scopes_of(r) for r in token_requests(plain)] == [
        ["repository:org/a:pull", "repository:org/b:pull"],
        ["repository:org/b:pull"],
    ]


def test_large_pages_are_read_on_every_path(faults: FaultServer) -> None:
    # An open registry (no challenge at all), and the second image of a run (a token already held): pages over the
    # 64 KiB of an error body are read whole on both.
    tags = [f"1.0.{n}-build-{'x' * 20}" for n in range(4000)]
    faults.handler = lambda request: json_reply({"name": "org/x", "tags": tags})
    (open_result,) = query_images(images(faults, "org/open"), options(faults), QueryOptions.build(list_tags=True))
    assert len(t.cast(list, open_result.tags)) == 4000

    faults.handler = BearerRegistry('Bearer realm="/token"', pages=[(tags, None)])
    results = query_images(images(faults, "org/a", "org/b"), options(faults))
    assert [len(t.cast(list, r.tags)) for r in results] == [4000, 4000]


# --- A registry that changes its mind mid-run: another scheme, or a token refused twice ---

CI = Identity(username="ci", password="pw")
BASIC_CI = "Basic " + base64.b64encode(b"ci:pw").decode()


def switching(first: str, then: str) -> BearerRegistry:
    """org/a is behind ``first`` ("bearer" or "basic"), org/b behind ``then``: the scheme the registry asks for
    changes between two images of one run."""
    basic = BearerRegistry('Basic realm="reg"', accept={BASIC_CI})
    behind_basic = {f"/v2/org/{name}/": basic for name, scheme in (("a", first), ("b", then)) if scheme == "basic"}
    return BearerRegistry('Bearer realm="/token",service="reg"', routes=behind_basic)


@pytest.mark.parametrize(("first", "then"), [("bearer", "basic"), ("basic", "bearer")], ids=case_id)
def test_a_registry_that_changes_its_scheme_mid_run_gets_what_it_asks_for(
    faults: FaultServer, first: str, then: str
) -> None:
    faults.handler = switching(first, then)
    results = query_images(images(faults, "org/a", "org/b"), options(faults, credentials=CI))
    assert [r.tags for r in results] == [["1.0"], ["1.0"]]
    # org/b: what worked for org/a, refused with the other challenge, then what that challenge asks for.
    sent = [(r.path, r.header("Authorization")) for r in faults.requests if r.path == "/v2/org/b/tags/list"]
    expected = ["Bearer tok-1", BASIC_CI] if first == "bearer" else [BASIC_CI, "Bearer tok-1"]
    assert sent == [("/v2/org/b/tags/list", value) for value in expected]


def test_a_registry_that_turns_to_basic_for_an_anonymous_run_says_credentials_are_needed(
    faults: FaultServer,
) -> None:
    faults.handler = switching("bearer", "basic")
    with pytest.raises(AuthenticationError) as caught:
        query_images(images(faults, "org/a", "org/b"), options(faults))
    assert str(caught.value) == (
        f"{faults.host}/org/b: GET {faults.url}/v2/org/b/tags/list: 401 UNAUTHORIZED: the registry requires "
        "credentials (Basic challenge); set username and password for this registry, or log in with docker login or "
        "podman login"
    )


def test_a_held_token_refused_and_its_replacement_too_is_the_end(faults: FaultServer) -> None:
    # org/b refuses every token: the shared one it was sent, then a fresh one; then it is not found.
    registry = faults.handler = BearerRegistry('Bearer realm="/token",service="reg"')
    registry.routes["/v2/org/b/"] = registry.refuse
    with pytest.raises(RegistryError) as caught:
        query_images(images(faults, "org/a", "org/b"), options(faults, credentials=CI))
    assert str(caught.value) == (
        f"{faults.host}/org/b: GET {faults.url}/v2/org/b/tags/list: 401 UNAUTHORIZED (authentication required): the "
        "registry rejected the credentials of user 'ci'; check username and password"
    )
    assert [r.header("Authorization") for r in faults.requests if "/org/b/" in r.path] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]
