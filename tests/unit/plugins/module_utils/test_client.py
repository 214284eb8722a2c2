"""The core's token flow and paging against a scripted server on loopback.

These are the behaviours of real registries that the kit's Distribution
registry does not show (relative realms, no service, expiring tokens,
foreign links, ...); the real registry is exercised in tests/integration.
"""

from __future__ import annotations

import base64
import hashlib
import typing as t
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import Identity
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    AuthenticationError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RegistryConnectionError,
    RegistryError,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.manifests import MANIFEST_MEDIA_TYPES
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import query_images
from ansible_collections.tagscope.registry.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.tagscope.registry.plugins.module_utils._registry.tokens import lifetime
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import make_session
from tests.kit.bearer import BearerRegistry
from tests.kit.faults import FaultServer, Reply, Request, json_reply
from tests.unit.ids import case_id

TOKEN = "tok-1"


# No docker or podman files: these tests are about the protocol, not credential lookup.
NO_FILES = {"HOME": "/nonexistent"}


def client(server: FaultServer, **options: t.Any) -> RegistryClient:
    return RegistryClient(make_session(), ClientOptions(ca_path=server.ca, timeout=5, environ=NO_FILES, **options))


def ref(server: FaultServer, name: str = "org/app", tag: str = "") -> ImageReference:
    return ImageReference.parse(f"{server.host}/{name}{':' + tag if tag else ''}")


def token_requests(server: FaultServer, path: str = "/token") -> list[Request]:
    return [r for r in server.requests if r.path == path]


def test_relative_realm_with_its_own_query_and_service(faults: FaultServer) -> None:
    faults.handler = BearerRegistry(
        'Bearer realm="/token?account=ci&x=1",service="reg.example",scope="repository:org/app:pull"',
        pages=[(["1.0", "2.0"], None)],
    )
    assert client(faults).list_tags(ref(faults)) == ["1.0", "2.0"]
    (token_request,) = token_requests(faults)
    assert token_request.query == {
        "account": ["ci"],
        "x": ["1"],
        "service": ["reg.example"],
        "scope": ["repository:org/app:pull"],
    }


def test_challenge_without_service_sends_no_service(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="/token"', pages=[(["a"], None)])
    assert client(faults).list_tags(ref(faults)) == ["a"]
    (token_request,) = token_requests(faults)
    assert "service" not in token_request.query
    assert token_request.query["scope"] == ["repository:org/app:pull"]


def test_empty_service_is_not_sent(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="/token",service="",scope="x"', pages=[(["a"], None)])
    client(faults).list_tags(ref(faults))
    assert "service" not in token_requests(faults)[0].query


def test_only_pull_is_asked_even_when_the_challenge_names_more(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="/token",scope="repository:org/app:pull,push"', pages=[(["a"], None)])
    client(faults).list_tags(ref(faults))
    assert token_requests(faults)[0].query["scope"] == ["repository:org/app:pull"]


def test_bearer_is_preferred_among_several_challenges(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Basic realm="legacy", Bearer realm="/token",service="s"', pages=[(["a"], None)])
    assert client(faults).list_tags(ref(faults)) == ["a"]
    assert len(token_requests(faults)) == 1


def test_credentials_go_to_the_realm_as_utf8_basic(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="/token",service="s"', pages=[(["a"], None)])
    client(faults, credentials=Identity(username="robot$ci", password="pä:ss word")).list_tags(ref(faults))
    header = token_requests(faults)[0].header("Authorization")
    assert header == "Basic " + base64.b64encode("robot$ci:pä:ss word".encode()).decode()
    # The registry itself only ever sees the token.
    registry_auth = [r.header("Authorization") for r in faults.requests if r.path != "/token"]
    assert registry_auth == [None, "Bearer tok-1"]


def test_access_token_is_accepted(faults: FaultServer) -> None:
    faults.handler = BearerRegistry(
        'Bearer realm="/token"',
        pages=[(["a"], None)],
        token=json_reply({"access_token": "tok-oauth", "expires_in": 300}),
    )
    assert client(faults).list_tags(ref(faults)) == ["a"]


def test_token_response_without_token_is_a_protocol_error(faults: FaultServer) -> None:
    faults.handler = BearerRegistry(
        'Bearer realm="/token"', pages=[(["a"], None)], token=json_reply({"expires_in": 300})
    )
    with pytest.raises(ProtocolError, match="neither 'token' nor 'access_token'"):
        client(faults).list_tags(ref(faults))


@pytest.mark.parametrize(
    "token",
    ["tok-1\n", "tok-1\r\nX-Injected: 1", "tok 1", "tok-€", "tok-é", "tok-1\x00"],
    ids=["lf", "crlf", "space", "euro", "latin1", "nul"],
)
def test_a_token_no_header_can_carry_is_refused_without_showing_it(faults: FaultServer, token: str) -> None:
    # Found by fuzzing (tests/fuzz): requests refused the header and its message quoted it, token and all; a
    # character beyond latin-1 ended in a UnicodeEncodeError traceback.
    faults.handler = BearerRegistry('Bearer realm="/token"', pages=[(["a"], None)], token=json_reply({"token": token}))
    with pytest.raises(ProtocolError) as caught:
        client(faults).list_tags(ref(faults))
    assert str(caught.value) == (
        f"GET https://{faults.host}/token: token response has a token that is not printable ASCII, which no "
        "Authorization header can carry; the token service misbehaves"
    )
    assert len(token_requests(faults)) == 1


def test_a_token_reply_cut_short_is_not_quoted(faults: FaultServer) -> None:
    # Found by fuzzing: a token reply that is not JSON was quoted in the message, and may hold the token.
    cut = b'{"token": "eyJhbGciOiJSUzI1NiJ9.secret-part", "expires_in": 3'
    faults.handler = BearerRegistry('Bearer realm="/token"', pages=[(["a"], None)], token=Reply(200, cut))
    with pytest.raises(ProtocolError) as caught:
        client(faults).list_tags(ref(faults))
    assert str(caught.value) == (
        f"GET https://{faults.host}/token: 200: expected JSON, got something else (not quoted: it may hold a "
        "token); is this URL a container registry (or its token service)?"
    )


def test_paging_follows_links_relative_and_absolute_and_short_pages(faults: FaultServer) -> None:
    base = f"https://{faults.host}/v2/org/app/tags/list"
    faults.handler = BearerRegistry(
        'Bearer realm="/token"',
        pages=[
            (["a", "b"], '</v2/org/app/tags/list?page=1>; rel="next"'),
            # A short page with a next link: keep going.
            (["c"], f'<{base}?page=2>; rel="next"'),
            # null tags (Nexus) are dropped; a repeated tag is kept once.
            (["c", None, "d"], '<list?page=3>; rel="next"'),
            ([], None),
        ],
    )
    options_client = client(faults)
    assert options_client.list_tags(ref(faults)) == ["a", "b", "c", "d"]
    # One token serves every page.
    assert len(token_requests(faults)) == 1
    assert [r.query.get("page") for r in faults.requests if r.path.endswith("/tags/list")] == [
        None,
        None,
        ["1"],
        ["2"],
        ["3"],
    ]


def test_page_size_is_sent_as_n(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="/token"', pages=[(["a"], None)])
    client(faults, page_size=50).list_tags(ref(faults))
    assert faults.requests[0].query == {"n": ["50"]}


def test_pages_shorter_than_n_with_a_next_link_are_followed(faults: FaultServer) -> None:
    # A registry that caps its page size below the n it was sent (Harbor, Artifactory, GitLab cap theirs) still
    # links to the next page; a page shorter than n is not the last one while a Link follows.
    faults.handler = BearerRegistry(
        'Bearer realm="/token"',
        pages=[
            (["a", "b"], '</v2/org/app/tags/list?n=3&page=1>; rel="next"'),
            (["c", "d", "e"], '</v2/org/app/tags/list?n=3&page=2>; rel="next"'),
            (["f"], '</v2/org/app/tags/list?n=3&page=3>; rel="next"'),
            (["g"], None),
        ],
    )
    assert client(faults, page_size=3).list_tags(ref(faults)) == ["a", "b", "c", "d", "e", "f", "g"]
    pages = [r.query for r in faults.requests if r.path.endswith("/tags/list") and r.header("Authorization")]
    assert pages == [{"n": ["3"]}] + [{"n": ["3"], "page": [str(page)]} for page in (1, 2, 3)]


def test_a_link_to_another_host_is_refused(faults: FaultServer) -> None:
    faults.handler = BearerRegistry(
        'Bearer realm="/token"', pages=[(["a"], '<https://evil.example.com/v2/org/app/tags/list?page=1>; rel="next"')]
    )
    with pytest.raises(ProtocolError, match="another origin"):
        client(faults).list_tags(ref(faults))


def test_a_link_loop_is_refused(faults: FaultServer) -> None:
    faults.handler = BearerRegistry(
        'Bearer realm="/token"', pages=[(["a"], '</v2/org/app/tags/list?page=0>; rel="next"')]
    )
    with pytest.raises(ProtocolError, match="repeats an earlier page"):
        client(faults).list_tags(ref(faults))


def test_token_expiring_mid_walk_is_renewed_once(faults: FaultServer) -> None:
    # Each token is good for one request: the first is refused from the second page on, as if it expired.
    faults.handler = BearerRegistry(
        'Bearer realm="/token"',
        pages=[(["a"], '</v2/org/app/tags/list?page=1>; rel="next"'), (["b"], None)],
        uses=1,
    )
    assert client(faults).list_tags(ref(faults)) == ["a", "b"]
    assert len(token_requests(faults)) == 2


def test_a_refused_fresh_token_ends_as_not_found_without_looping(faults: FaultServer) -> None:
    # Docker Hub answers 401 with a new challenge for missing or private repositories.
    challenge = 'Bearer realm="/token",service="s",scope="repository:org/app:pull",error="insufficient_scope"'
    faults.handler = BearerRegistry(challenge, pages=[(["a"], None)], uses=0)
    with pytest.raises(NotFoundError, match="not found or access denied for anonymous access"):
        client(faults).list_tags(ref(faults))
    assert len(token_requests(faults)) == 1
    assert len(faults.requests) == 3


def test_tokens_are_reused_across_images_of_one_repository(faults: FaultServer) -> None:
    faults.handler = BearerRegistry(
        'Bearer realm="/token"',
        pages=[(["1.0"], None)],
        manifests={"1.0": Reply(200, b"", [("Docker-Content-Digest", "sha256:" + "1" * 64)])},
    )
    results = query_images(
        [f"{faults.host}/org/app:1.0", f"{faults.host}/org/app:2.0"], ClientOptions(ca_path=faults.ca, environ=NO_FILES)
    )
    assert [(r.exists, r.digest) for r in results] == [(True, "sha256:" + "1" * 64), (False, None)]
    # One challenge (whichever image asks first), one token; then the cached token goes out up front, and the
    # repository is listed once for both references.
    sent = [(r.method, r.path, r.header("Authorization")) for r in faults.requests]
    assert sent[0][::2] == ("HEAD", None) and sent[1] == ("GET", "/token", None)
    assert sorted(sent[2:]) == [
        ("GET", "/v2/org/app/tags/list", "Bearer tok-1"),
        ("HEAD", "/v2/org/app/manifests/1.0", "Bearer tok-1"),
        ("HEAD", "/v2/org/app/manifests/2.0", "Bearer tok-1"),
    ]


def test_short_expires_in_counts_as_sixty_seconds(faults: FaultServer) -> None:
    faults.handler = BearerRegistry(
        'Bearer realm="/token"', pages=[(["a"], None)], token=json_reply({"token": "tok-short", "expires_in": 5})
    )
    registry = client(faults)
    registry.list_tags(ref(faults))
    registry.list_tags(ref(faults))
    assert len(token_requests(faults)) == 1


def test_token_with_an_absurd_issued_at_is_reused(faults: FaultServer) -> None:
    # Reference: containers/image docker_client.go takes Go's zero time as "issued now"; a client that trusts it
    # computes an expired token and asks for a new one before every request.
    faults.handler = BearerRegistry(
        'Bearer realm="/token"',
        pages=[(["a"], None)],
        token=json_reply({"token": "tok-zero", "expires_in": 300, "issued_at": "0001-01-01T00:00:00Z"}),
    )
    registry = client(faults)
    registry.list_tags(ref(faults))
    registry.list_tags(ref(faults))
    assert len(token_requests(faults)) == 1


def _ago(seconds: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("body", "low", "high"),
    [
        ({"expires_in": 300}, 294, 295),
        ({"expires_in": 300, "issued_at": "0001-01-01T00:00:00Z"}, 294, 295),
        ({"expires_in": 300, "issued_at": "2000-01-01T00:00:00Z"}, 294, 295),
        ({"expires_in": 300, "issued_at": "2999-01-01T00:00:00Z"}, 294, 295),
        ({"expires_in": 300, "issued_at": "not a date"}, 294, 295),
        ({"expires_in": 10}, 54, 55),  # less than 60 counts as 60
        ({"expires_in": "abc"}, 54, 55),
        # Found by fuzzing (tests/fuzz): these raised OverflowError and ValueError, or made every request fetch a
        # token (NaN).
        ({"expires_in": 10**400}, 54, 55),
        ({"expires_in": float("nan")}, 54, 55),
        ({"expires_in": 300, "issued_at": "2020-01-01T00:00:00+99:00"}, 294, 295),
        ({"expires_in": 300, "issued_at": "2020-01-01T00:00:00-23:99"}, 294, 295),
    ],
    ids=case_id,
)
def test_tokenlifetime(body: dict[str, t.Any], low: float, high: float) -> None:
    assert low <= lifetime(body) <= high


def test_token_lifetime_counts_a_plausible_age() -> None:
    assert 263 <= lifetime({"expires_in": 300, "issued_at": _ago(30)}) <= 266


def test_token_issued_in_the_future_is_clock_skew(faults: FaultServer) -> None:
    faults.handler = BearerRegistry(
        'Bearer realm="/token"',
        pages=[(["a"], None)],
        token=json_reply({"token": "tok-skew", "expires_in": 300, "issued_at": "2999-01-01T00:00:00Z"}),
    )
    registry = client(faults)
    registry.list_tags(ref(faults))
    registry.list_tags(ref(faults))
    assert len(token_requests(faults)) == 1


def test_plain_http_realm_is_refused(faults: FaultServer) -> None:
    faults.handler = BearerRegistry('Bearer realm="http://127.0.0.1:9/token"', pages=[(["a"], None)])
    with pytest.raises(ProtocolError, match="is not https"):
        client(faults, credentials=Identity(username="u", password="p")).list_tags(ref(faults))
    assert token_requests(faults) == []


def test_basic_challenge_uses_credentials_directly(faults: FaultServer) -> None:
    expected = Identity(username="AWS", password="ecr-pass").basic_header()

    def handle(request: Request) -> Reply:
        if request.header("Authorization") != expected:
            return json_reply({"errors": [{"code": "UNAUTHORIZED"}]}, 401, [("WWW-Authenticate", 'Basic realm="ecr"')])
        return json_reply({"name": "org/app", "tags": ["x"]})

    faults.handler = handle
    registry = client(faults, credentials=Identity(username="AWS", password="ecr-pass"))
    assert registry.list_tags(ref(faults)) == ["x"]
    assert registry.list_tags(ref(faults, "org/other")) == ["x"]
    # After the first challenge, Basic goes out up front.
    assert [r.header("Authorization") is not None for r in faults.requests] == [False, True, True]


def test_basic_challenge_without_credentials(faults: FaultServer) -> None:
    faults.handler = lambda request: Reply(401, b"", [("WWW-Authenticate", 'Basic realm="ecr"')])
    with pytest.raises(AuthenticationError, match=r"requires credentials \(Basic challenge\); set username"):
        client(faults).list_tags(ref(faults))


def test_401_without_a_usable_challenge(faults: FaultServer) -> None:
    faults.handler = lambda request: Reply(401, b"", [("WWW-Authenticate", "Negotiate abc==")])
    with pytest.raises(AuthenticationError, match=r"no Bearer or Basic challenge \(offered: negotiate\)"):
        client(faults).list_tags(ref(faults))


def test_the_schemes_offered_are_named_but_not_at_any_length(faults: FaultServer) -> None:
    # Found by fuzzing (tests/fuzz): a scheme name of 60 kB came back whole in the message.
    faults.handler = lambda request: Reply(401, b"", [("WWW-Authenticate", "N" * 60_000 + " abc==")])
    with pytest.raises(AuthenticationError) as caught:
        client(faults).list_tags(ref(faults))
    assert f"(offered: {'n' * 100}...); this registry needs" in str(caught.value)
    assert len(str(caught.value)) < 400


def test_manifest_head_sends_every_media_type_and_reads_the_digest(faults: FaultServer) -> None:
    digest = "sha256:" + "b" * 64
    faults.handler = lambda request: Reply(200, b"", [("Docker-Content-Digest", digest)])
    assert client(faults).manifest(ref(faults), "1.0").digest == digest
    (request,) = faults.requests
    assert request.method == "HEAD"
    accepted = [part.strip() for part in (request.header("Accept") or "").split(",")]
    # Written out here, not read from the code: the four types registries need to answer with the digest
    # `docker pull` prints.
    assert accepted == [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]


def test_manifest_without_digest_header_is_hashed(faults: FaultServer) -> None:
    body = b'{"schemaVersion":2}'
    faults.handler = lambda request: Reply(200, body, [("Content-Type", MANIFEST_MEDIA_TYPES[1])])
    digest = client(faults).manifest(ref(faults), "1.0").digest
    assert digest == "sha256:" + hashlib.sha256(body).hexdigest()
    assert [r.method for r in faults.requests] == ["HEAD", "GET"]


def test_a_retry_after_beyond_the_wait_budget_fails_at_once(faults: FaultServer) -> None:
    faults.handler = lambda request: json_reply(
        {"errors": [{"code": "TOOMANYREQUESTS", "message": "pull rate limit"}]}, 429, [("Retry-After", "42")]
    )
    with pytest.raises(RateLimitedError, match="retry after 42 s") as caught:
        client(faults, retry_max_wait=10).list_tags(ref(faults))
    assert caught.value.retry_after == 42
    assert caught.value.code == "TOOMANYREQUESTS"
    assert len(faults.requests) == 1


def test_html_error_body_is_shown_short_and_stripped(faults: FaultServer) -> None:
    html = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 1000 + "</body></html>"
    faults.handler = lambda request: Reply(502, html, [("Content-Type", "text/html")])
    with pytest.raises(RegistryError) as caught:
        client(faults, retries=0).list_tags(ref(faults))
    message = str(caught.value)
    assert message.startswith(f"GET https://{faults.host}/v2/org/app/tags/list: 502 Bad Gateway (502 Bad Gateway")
    assert "<html>" not in message
    assert len(message) < 400
    assert "try again later" in message


def test_non_json_tag_list(faults: FaultServer) -> None:
    faults.handler = lambda request: Reply(200, "<html>login page</html>", [("Content-Type", "text/html")])
    with pytest.raises(ProtocolError, match="expected JSON, got 'login page'"):
        client(faults).list_tags(ref(faults))


@pytest.mark.parametrize("status", [200, 500])
def test_json_nested_beyond_the_recursion_limit_is_not_json(faults: FaultServer, status: int) -> None:
    # Found by fuzzing (tests/fuzz): json.loads raised RecursionError, which no caller expected.
    faults.handler = lambda request: Reply(status, '{"tags": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(RegistryError) as caught:
        client(faults, retries=0).list_tags(ref(faults))
    expected = (
        '200: expected JSON, got \'{"tags": [[[[' if status == 200 else '500 Internal Server Error ({"tags": [[[['
    )
    assert str(caught.value).startswith(f"GET https://{faults.host}/v2/org/app/tags/list: {expected}")


def test_tls_without_the_ca_fails_clearly(faults: FaultServer) -> None:
    registry = RegistryClient(make_session(), ClientOptions(timeout=5, environ=NO_FILES))
    with pytest.raises(RegistryError, match=r"TLS failed: \[SSL: CERTIFICATE_VERIFY_FAILED\].*set ca_path"):
        registry.list_tags(ref(faults))
    assert faults.requests == []


def test_validate_certs_false_skips_verification(faults: FaultServer) -> None:
    faults.handler = lambda request: json_reply({"name": "org/app", "tags": ["a"]})
    registry = RegistryClient(make_session(), ClientOptions(validate_certs=False, timeout=5, environ=NO_FILES))
    assert registry.list_tags(ref(faults)) == ["a"]


def test_a_refused_connection_is_one_attempt_without_backoff() -> None:
    """A refusal is final (nothing listens there): no retry, no sleep, and the message says so."""
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        session = make_session()
        attempts: list[str] = []
        adapter = session.get_adapter("https://127.0.0.1")
        original = adapter.send

        def counting(request: t.Any, **kwargs: t.Any) -> t.Any:
            attempts.append(request.url)
            return original(request, **kwargs)

        adapter.send = counting  # type: ignore[method-assign]
        registry = RegistryClient(session, ClientOptions(timeout=5, environ=NO_FILES, retries=4))
        with pytest.raises(RegistryError) as caught:
            registry.list_tags(ImageReference.parse(f"127.0.0.1:{port}/org/app"))
    assert len(attempts) == 1
    assert "cannot connect" in str(caught.value) and "attempts" not in str(caught.value)


def _endless_pages(faults: FaultServer, tags_per_page: int = 1) -> None:
    def handle(request: Request) -> Reply:
        page = int(request.query.get("page", ["0"])[0])
        tags = [f"{page}.{n}" for n in range(tags_per_page)]
        return json_reply({"name": "org/app", "tags": tags}, headers=[("Link", f'<?page={page + 1}>; rel="next"')])

    faults.handler = handle


def test_paging_stops_at_the_page_limit(faults: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.tagscope.registry.plugins.module_utils._registry import client as module  # noqa: PLC0415

    monkeypatch.setattr(module, "MAX_PAGES", 3)
    _endless_pages(faults)
    with pytest.raises(ProtocolError) as caught:
        client(faults).list_tags(ref(faults))
    # Three pages read, the fourth refused before it is asked.
    assert len(faults.requests) == 3
    assert str(caught.value) == (
        f"GET https://{faults.host}/v2/org/app/tags/list?page=3: more than 3 pages of tags; refusing to read on; set "
        "page_size higher, or report the repository to its operator"
    )


def test_paging_stops_past_the_tag_limit(faults: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.tagscope.registry.plugins.module_utils._registry import client as module  # noqa: PLC0415

    monkeypatch.setattr(module, "MAX_TAGS", 4)
    _endless_pages(faults, tags_per_page=2)
    with pytest.raises(ProtocolError) as caught:
        client(faults).list_tags(ref(faults))
    # Four tags are within the limit; the fifth is one too many.
    assert len(faults.requests) == 3
    assert str(caught.value) == (
        f"GET https://{faults.host}/v2/org/app/tags/list?page=2: more than 4 tags; refusing to read on; select tags "
        "on the registry side, or report the repository to its operator"
    )


@pytest.mark.parametrize(
    ("listed", "url"),
    [
        # Docker Hub is named docker.io and answers on registry-1.docker.io: either name makes it plain HTTP.
        ("docker.io", "http://registry-1.docker.io/v2/library/alpine/tags/list"),
        ("registry-1.docker.io", "http://registry-1.docker.io/v2/library/alpine/tags/list"),
        ("quay.io", "https://registry-1.docker.io/v2/library/alpine/tags/list"),
    ],
    ids=case_id,
)
def test_http_registries_by_either_name_of_docker_hub(listed: str, url: str) -> None:
    from tests.unit.plugins.module_utils.test_realm_rules import RecordingAdapter  # noqa: PLC0415

    session = make_session()
    recorder = RecordingAdapter()
    session.mount("http://", recorder)
    session.mount("https://", recorder)
    registry = RegistryClient(session, ClientOptions(http_registries=[listed], timeout=5, environ=NO_FILES))
    with pytest.raises(RegistryConnectionError) as caught:
        registry.list_tags(ImageReference.parse("alpine"))
    # Recorded, not connected: no test reaches Docker Hub.
    assert recorder.attempts == [url]
    assert str(caught.value) == (
        f"GET {url}: cannot connect: a test must not connect here; check the registry host and port, and that it is "
        "reachable from where the task runs"
    )


@pytest.mark.parametrize(
    "served",
    ["sha256:abc\nIMAGE=evil", "latest", "sha256:" + "a" * 10, "sha256:" + "a" * 64 + " ", "Sha256:" + "a" * 64],
    ids=case_id,
)
def test_a_digest_header_that_is_no_digest_is_refused(faults: FaultServer, served: str) -> None:
    """It would become digest and pinned, which playbooks deploy."""
    faults.handler = lambda request: Reply(200, b"", [("Docker-Content-Digest", served)])
    with pytest.raises(ProtocolError) as caught:
        client(faults).manifest(ref(faults), "1.0")
    assert "registry sent a Docker-Content-Digest that is not a digest" in str(caught.value)
