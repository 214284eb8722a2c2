"""Every way the token flow and the registry API fail, as the user reads it: the whole message and the whole
structured context the module returns (``image``, ``method``, ``url``, ``status``, ``code``).

A message that names the wrong request, drops its hint or loses the status is a bug a user notices; mutation
testing (docs/testing.md) showed that tests matching a fragment of the message let such bugs through.
Against the scripted server on loopback (tests/kit/faults.py): these are replies a real registry rarely gives.
"""

from __future__ import annotations

import base64
import json
import typing as t
from pathlib import Path

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import Identity
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import RegistryError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions, QueryOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import query_images
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import MAX_TOKEN_BODY
from tests.kit.bearer import BearerRegistry
from tests.kit.faults import FaultServer, Reply, Request, json_reply

NO_FILES = {"HOME": "/nonexistent"}
UNAUTHORIZED = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
BASIC_PW = "Basic " + base64.b64encode(b"ci:pw").decode()


def registry(
    challenge: str | None = 'Bearer realm="/token",service="s"', **knobs: t.Any
) -> t.Callable[[], BearerRegistry]:
    """A fresh registry per run of a case (it keeps the tokens it issued); its 401s carry ``UNAUTHORIZED``, the
    "(authentication required)" of the messages below."""
    return lambda: BearerRegistry(challenge, denied=UNAUTHORIZED, **knobs)


class Case(t.NamedTuple):
    id: str
    registry: t.Callable[[], BearerRegistry]
    error: str
    message: str
    context: dict[str, t.Any]
    options: t.Mapping[str, t.Any] = {}
    image: str = "org/app"


# {host} is the server's host:port, {url} its https URL; "url" in the context is the request that failed.
CASES = [
    Case(
        "bearer-without-realm",
        registry('Bearer service="s"'),
        "ProtocolError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 401 with a Bearer challenge that has no realm; the registry's "
        "auth configuration is incomplete",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 401},
    ),
    Case(
        "realm-port-out-of-range",
        registry('Bearer realm="https://{hostname}:99999/token"'),
        "ProtocolError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 401 with a Bearer realm that is not a valid URL (Port out "
        "of range 0-65535); the registry's auth configuration is broken",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 401},
    ),
    Case(
        "malformed-challenge",
        registry('Bearer realm="/token'),
        "ProtocolError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: unterminated quoted string in header 'Bearer realm=\"/token'",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 401},
    ),
    Case(
        "only-unknown-schemes",
        registry("Negotiate abc, NTLM"),
        "AuthenticationError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 401 UNAUTHORIZED and no Bearer or Basic challenge "
        "(offered: negotiate, ntlm); this registry needs an authentication scheme tagscope.registry does not speak",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 401},
    ),
    Case(
        "no-challenge-at-all",
        registry(None),
        "AuthenticationError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 401 UNAUTHORIZED and no Bearer or Basic challenge "
        "(offered: none); this registry needs an authentication scheme tagscope.registry does not speak",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 401},
    ),
    Case(
        "basic-without-credentials",
        registry('Basic realm="registry"'),
        "AuthenticationError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 401 UNAUTHORIZED: the registry requires credentials (Basic "
        "challenge); set username and password for this registry, or log in with docker login or podman login",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 401, "code": "UNAUTHORIZED"},
    ),
    Case(
        "basic-wrong-credentials",
        registry('Basic realm="registry"'),
        "AuthenticationError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 401 UNAUTHORIZED (authentication required): the registry "
        "rejected the credentials of user 'ci'; check username and password",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 401, "code": "UNAUTHORIZED"},
        {"credentials": Identity(username="ci", password="pw", source="options")},
    ),
    # Realms on internal addresses: tests/unit/plugins/module_utils/test_realm_rules.py (no connection is tried).
    Case(
        "plain-http-realm",
        registry('Bearer realm="http://{hostname}:9/token"'),
        "ProtocolError",
        "{host}/org/app: token realm http://127.0.0.1:9/token is not https; refusing to ask it for a token; the "
        "registry's token service must be served over TLS",
        {},
    ),
    Case(
        "token-reply-without-token",
        registry(token=json_reply({"expires_in": 300})),
        "ProtocolError",
        "{host}/org/app: GET {url}/token: token response has neither 'token' nor 'access_token'",
        {"method": "GET", "url": "{url}/token", "status": 200},
    ),
    Case(
        "token-that-is-a-number",
        registry(token=json_reply({"token": 12345})),
        "ProtocolError",
        "{host}/org/app: GET {url}/token: token response has neither 'token' nor 'access_token'",
        {"method": "GET", "url": "{url}/token", "status": 200},
    ),
    Case(
        "token-reply-that-is-a-list",
        registry(token=json_reply(["tok-1"])),
        "ProtocolError",
        "{host}/org/app: GET {url}/token: token response has neither 'token' nor 'access_token'",
        {"method": "GET", "url": "{url}/token", "status": 200},
    ),
    Case(
        "token-reply-not-json",
        registry(token=Reply(200, b"<html>login</html>", [("Content-Type", "text/html")])),
        "ProtocolError",
        "{host}/org/app: GET {url}/token: 200: expected JSON, got 'login'; is this URL a container "
        "registry (or its token service)?",
        {"method": "GET", "url": "{url}/token", "status": 200},
    ),
    Case(
        "token-reply-too-large",
        registry(token=json_reply({"token": "t" * (MAX_TOKEN_BODY + 1)})),
        "ProtocolError",
        f"{{host}}/org/app: GET {{url}}/token: 200: response body is larger than {MAX_TOKEN_BODY // 1024} KiB; the "
        "server misbehaves; refusing to read more",
        {"method": "GET", "url": "{url}/token", "status": 200},
    ),
    Case(
        "token-service-refuses-anonymous",
        registry(token=json_reply({"errors": [{"code": "DENIED", "message": "no anonymous"}]}, 401)),
        "AuthenticationError",
        "{host}/org/app: GET {url}/token: 401 DENIED: the token server refuses anonymous access; set username and "
        "password for this registry, or log in with docker login or podman login",
        {"method": "GET", "url": "{url}/token", "status": 401, "code": "DENIED"},
    ),
    Case(
        "token-service-refuses-credentials-400",
        registry(token=json_reply({"errors": [{"code": "UNAUTHORIZED", "message": "bad password"}]}, 400)),
        "AuthenticationError",
        "{host}/org/app: GET {url}/token: 400 UNAUTHORIZED: the token server rejected the credentials of user 'ci' "
        "(bad password); check username and password",
        {"method": "GET", "url": "{url}/token", "status": 400, "code": "UNAUTHORIZED"},
        {"credentials": Identity(username="ci", password="pw", source="options")},
    ),
    Case(
        "token-not-accepted-anonymous",
        registry(uses=0),
        "NotFoundError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 401 UNAUTHORIZED (authentication required): repository not "
        "found or access denied for anonymous access; check the repository name, or set username and password",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 401, "code": "UNAUTHORIZED"},
    ),
    Case(
        "token-not-accepted-with-credentials",
        registry(uses=0),
        "AuthenticationError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 401 UNAUTHORIZED (authentication required): the registry "
        "rejected the credentials of user 'ci'; check username and password",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 401, "code": "UNAUTHORIZED"},
        {"credentials": Identity(username="ci", password="pw", source="options")},
    ),
    Case(
        "repository-not-found",
        registry(answer=json_reply({"errors": [{"code": "NAME_UNKNOWN", "message": "name not known"}]}, 404)),
        "NotFoundError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 404 NAME_UNKNOWN (name not known): repository "
        "{host}/org/app not found; check the repository name (and its registry host)",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 404, "code": "NAME_UNKNOWN"},
    ),
    Case(
        "repository-not-found-without-body",
        registry(answer=Reply(404)),
        "NotFoundError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 404 Not Found: repository {host}/org/app not found; check the "
        "repository name (and its registry host)",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 404, "code": "NAME_UNKNOWN"},
    ),
    Case(
        "access-denied",
        registry(answer=Reply(403)),
        "AuthenticationError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 403 Forbidden: access denied; check that these credentials "
        "may pull this repository",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 403, "code": "DENIED"},
    ),
    Case(
        "rate-limited-beyond-the-wait-budget",
        registry(answer=json_reply({"errors": []}, 429, [("Retry-After", "3600")])),
        "RateLimitedError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 429 Too Many Requests: rate limited by the registry, retry "
        "after 3600 s; wait, or authenticate to get a higher limit",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 429, "code": "TOOMANYREQUESTS"},
    ),
    Case(
        "server-error-with-a-code",
        registry(answer=json_reply({"errors": [{"code": "UNKNOWN", "message": "disk full"}]}, 500)),
        "RegistryError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 500 UNKNOWN (disk full); the registry failed; try again later",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 500, "code": "UNKNOWN"},
        {"retries": 0},
    ),
    Case(
        "server-error-without-a-reason-phrase",
        registry(answer=Reply(500, b"", reason="")),
        "RegistryError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 500; the registry failed; try again later",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 500},
        {"retries": 0},
    ),
    Case(
        "tag-list-not-json",
        registry(answer=Reply(200, b"not json")),
        "ProtocolError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: 200: expected JSON, got 'not json'; is this URL a container "
        "registry (or its token service)?",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list", "status": 200},
    ),
    Case(
        "tags-not-a-list",
        registry(answer=json_reply({"name": "org/app", "tags": {"1.0": True}})),
        "ProtocolError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: tag list has 'tags' of type dict, expected a list",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list"},
    ),
    Case(
        "tag-list-not-an-object",
        registry(answer=json_reply(["1.0", "2.0"])),
        "ProtocolError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: tag list is of type list, expected an object with 'tags'",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list"},
    ),
    Case(
        "next-page-on-another-origin",
        registry(
            answer=json_reply(
                {"name": "org/app", "tags": ["1.0"]},
                headers=[("Link", '<https://elsewhere.example/v2/org/app/tags/list?last=1.0>; rel="next"')],
            )
        ),
        "ProtocolError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: registry sent a next-page Link to another origin, "
        "https://elsewhere.example:443; refusing to follow it: it would carry the token elsewhere",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list"},
    ),
    Case(
        "next-page-repeats-a-page",
        registry(
            answer=json_reply(
                {"name": "org/app", "tags": ["1.0"]}, headers=[("Link", '</v2/org/app/tags/list>; rel="next"')]
            )
        ),
        "ProtocolError",
        "{host}/org/app: GET {url}/v2/org/app/tags/list: registry sent a next-page Link that repeats an earlier page; "
        "this is a registry bug; report it to the registry's operator",
        {"method": "GET", "url": "{url}/v2/org/app/tags/list"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_errors_in_full(faults: FaultServer, case: Case) -> None:
    hostname = faults.host.rsplit(":", 1)[0]
    serve = case.registry()

    def handler(request: Request) -> Reply:
        reply = serve(request)
        reply.headers = [(key, value.format(hostname=hostname)) for key, value in reply.headers]
        return reply

    faults.handler = handler
    options = ClientOptions(ca_path=faults.ca, timeout=5, environ=NO_FILES, **case.options)
    with pytest.raises(RegistryError) as caught:
        query_images([f"{faults.host}/{case.image}"], options, QueryOptions())
    error = caught.value

    def fill(text: str) -> str:
        return text.format(host=faults.host, url=faults.url)

    assert type(error).__name__ == case.error
    assert str(error) == fill(case.message)
    expected = {key: fill(value) if isinstance(value, str) else value for key, value in case.context.items()}
    assert error.context() == {"image": f"{faults.host}/{case.image}", **expected}


def test_basic_challenge_without_realm_takes_credentials(faults: FaultServer) -> None:
    # Some registries send a bare "Basic": it has no realm to resolve, and needs none.
    faults.handler = BearerRegistry("Basic", accept={BASIC_PW})
    options = ClientOptions(ca_path=faults.ca, timeout=5, environ=NO_FILES, credentials=Identity("ci", "pw"))
    (result,) = query_images([f"{faults.host}/org/app"], options)
    assert result.tags == ["1.0"]


def test_the_client_options_reach_the_requests(faults: FaultServer, tmp_path: Path) -> None:
    # auth_file is where the credentials come from; timeout bounds every request.
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {faults.host: {"auth": base64.b64encode(b"ci:pw").decode()}}}))
    faults.handler = BearerRegistry('Basic realm="registry"', accept={BASIC_PW})
    options = ClientOptions(ca_path=faults.ca, timeout=5, environ=NO_FILES, auth_file=str(auth_file))
    (result,) = query_images([f"{faults.host}/org/app"], options)
    assert result.tags == ["1.0"]
    faults.handler = lambda request: Reply(200, b"{}", delay=1.5)
    with pytest.raises(RegistryError) as caught:
        query_images([f"{faults.host}/org/app"], ClientOptions(ca_path=faults.ca, timeout=0.5, environ=NO_FILES))
    assert "no answer within 0.5 s" in str(caught.value)
