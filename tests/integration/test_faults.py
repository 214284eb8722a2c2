"""The fault matrix: what real registries do that the kit's Distribution registry never will.

Each scenario is a scripted server on loopback (tests/kit/faults.py); each runs through the module
(``ansible -m tagscope.registry.image_tags``) and through the lookup, and must end in the right result or
a clear, bounded error. docs/faults.md lists them with the observed outcomes.
"""

from __future__ import annotations

import email.utils
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.kit.faults import FaultServer, Reply, Request, json_reply

from .conftest import Run, run_lookup, run_module

TAGS = {"name": "org/app", "tags": ["1.0", "1.1", "2.0"]}
CREDENTIALS = {"username": "fault-user", "password": "Fault-canary-pass"}


class Servers(t.NamedTuple):
    main: FaultServer
    other: FaultServer


Handler = t.Callable[[Request], Reply]


@dataclass
class Scenario:
    name: str
    # Builds the main server's handler; gets both servers (for realms and redirects elsewhere).
    handler: t.Callable[[Servers], Handler]
    options: dict[str, t.Any] = field(default_factory=dict)
    tags: list[str] | None = None
    error: str | None = None
    check: t.Callable[[Servers, float], None] | None = None
    tls: bool = True


def sequence(*replies: Reply) -> Handler:
    """Answer with the replies in turn, then keep answering with the last one."""
    queue = list(replies)

    def handle(request: Request) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handle


def tags_ok() -> Reply:
    return json_reply(TAGS)


def error(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None) -> Reply:
    return json_reply({"errors": [{"code": code, "message": message}]}, status, headers)


def bearer(
    servers: Servers,
    realm: str,
    serve: t.Callable[[Request, int], Reply],
    *,
    token_reply: Reply | None = None,
    valid: t.Callable[[str, Request], bool] | None = None,
) -> Handler:
    """A registry behind a Bearer challenge whose token endpoint is /token on the main server."""
    issued = {"count": 0}

    def handle(request: Request) -> Reply:
        if request.path == "/token":
            issued["count"] += 1
            return token_reply or json_reply({"token": f"tok-{issued['count']}", "expires_in": 300})
        auth = request.header("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if not token or (valid is not None and not valid(token, request)):
            return error(401, "UNAUTHORIZED", "authentication required", [("WWW-Authenticate", realm)])
        return serve(request, issued["count"])

    return handle


def _waited(elapsed: float, seconds: float) -> None:
    assert elapsed >= seconds, f"answered after {elapsed:.1f} s, before Retry-After"


def count(server: FaultServer, path_end: str) -> int:
    return sum(request.path.endswith(path_end) for request in server.requests)


def http_date(seconds: float) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


def expect_count(path_end: str, number: int) -> t.Callable[[Servers, float], None]:
    def check(servers: Servers, elapsed: float) -> None:
        assert count(servers.main, path_end) == number, [r.path for r in servers.main.requests]

    return check


def paged(request: Request, tokens: int) -> Reply:
    if request.query.get("page") == ["1"]:
        return json_reply({"name": "org/app", "tags": ["2.0"]})
    return json_reply(
        {"name": "org/app", "tags": ["1.0", "1.1"]}, headers=[("Link", '</v2/org/app/tags/list?page=1>; rel="next"')]
    )


def redirect_elsewhere(servers: Servers) -> Handler:
    servers.other.handler = lambda request: tags_ok()
    return bearer(
        servers,
        'Bearer realm="/token"',
        lambda request, tokens: Reply(
            307, b"", [("Location", f"https://localhost:{servers.other.host.split(':')[1]}/v2/org/app/tags/list")]
        ),
    )


def no_authorization_elsewhere(servers: Servers, elapsed: float) -> None:
    assert servers.other.requests, "the redirect was not followed"
    assert all(request.header("Authorization") is None for request in servers.other.requests)


SCENARIOS = [
    Scenario(
        "429 with Retry-After in seconds, then success",
        lambda s: sequence(error(429, "TOOMANYREQUESTS", "slow down", [("Retry-After", "1")]), tags_ok()),
        tags=["1.0", "1.1", "2.0"],
        check=lambda s, elapsed: expect_count("/tags/list", 2)(s, elapsed) or _waited(elapsed, 1.0),
    ),
    Scenario(
        "429 with Retry-After as an HTTP date, then success",
        lambda s: sequence(error(429, "TOOMANYREQUESTS", "slow down", [("Retry-After", http_date(3))]), tags_ok()),
        tags=["1.0", "1.1", "2.0"],
        # HTTP dates have whole seconds: 3 s from now is at least 2 s of waiting.
        check=lambda s, elapsed: expect_count("/tags/list", 2)(s, elapsed) or _waited(elapsed, 2.0),
    ),
    Scenario(
        "429 with a Retry-After beyond the wait budget fails at once",
        lambda s: sequence(error(429, "TOOMANYREQUESTS", "pull rate limit", [("Retry-After", "3600")])),
        error="429 TOOMANYREQUESTS (pull rate limit): rate limited by the registry, retry after 3600 s",
        check=expect_count("/tags/list", 1),
    ),
    Scenario(
        "502, 503, 504, then success (backoff)",
        lambda s: sequence(Reply(502), Reply(503), Reply(504), tags_ok()),
        tags=["1.0", "1.1", "2.0"],
        check=expect_count("/tags/list", 4),
    ),
    Scenario(
        "500 every time: bounded attempts",
        lambda s: sequence(error(500, "UNKNOWN", "database on fire")),
        options={"retries": 2},
        error="500 UNKNOWN (database on fire), after 3 attempts",
        check=expect_count("/tags/list", 3),
    ),
    Scenario(
        "connection reset, then success",
        lambda s: sequence(Reply(reset=True), tags_ok()),
        tags=["1.0", "1.1", "2.0"],
        check=expect_count("/tags/list", 2),
    ),
    Scenario(
        "404 is not retried",
        lambda s: sequence(error(404, "NAME_UNKNOWN", "repository name not known to registry")),
        error="404 NAME_UNKNOWN (repository name not known to registry)",
        check=expect_count("/tags/list", 1),
    ),
    Scenario(
        "wrong credentials are not retried",
        lambda s: bearer(
            s,
            'Bearer realm="/token"',
            lambda r, n: tags_ok(),
            token_reply=error(401, "UNAUTHORIZED", "bad credentials"),
        ),
        options=CREDENTIALS,
        error="the token server rejected the credentials of user 'fault-user'",
        check=expect_count("/token", 1),
    ),
    Scenario(
        "token expires during a paginated walk: renewed once",
        lambda s: bearer(
            s,
            'Bearer realm="/token"',
            paged,
            valid=lambda token, request: token != "tok-1" or request.query.get("page") != ["1"],
        ),
        tags=["1.0", "1.1", "2.0"],
        check=expect_count("/token", 2),
    ),
    Scenario(
        "insufficient_scope after a fresh token: not found, no loop",
        lambda s: bearer(
            s,
            'Bearer realm="/token",scope="repository:org/app:pull",error="insufficient_scope"',
            lambda r, n: tags_ok(),
            valid=lambda token, request: False,
        ),
        error="repository not found or access denied for anonymous access",
        check=lambda s, e: expect_count("/token", 1)(s, e) or expect_count("/tags/list", 2)(s, e),
    ),
    Scenario(
        "oversized token response",
        lambda s: bearer(
            s,
            'Bearer realm="/token"',
            lambda r, n: tags_ok(),
            token_reply=json_reply({"token": "x" * (2 * 1024 * 1024)}),
        ),
        error="response body is larger than 1024 KiB",
    ),
    Scenario(
        "oversized HTML error body: short, sanitized excerpt",
        lambda s: sequence(
            Reply(
                400,
                "<html><body><h1>Bad request</h1>" + "y" * (1024 * 1024) + "</body></html>",
                [("Content-Type", "text/html")],
            )
        ),
        error="400 Bad Request (Bad request yyyy",
    ),
    Scenario(
        "oversized tag list page",
        lambda s: sequence(
            Reply(
                200,
                b'{"name": "org/app", "tags": ["' + b"z" * (17 * 1024 * 1024) + b'"]}',
                [("Content-Type", "application/json")],
            )
        ),
        error="response body is larger than 16384 KiB",
    ),
    Scenario(
        "HTML login page instead of JSON",
        lambda s: sequence(
            Reply(200, "<html><title>Sign in</title><body>Please log in</body></html>", [("Content-Type", "text/html")])
        ),
        error="200: expected JSON, got 'Sign in Please log in'",
    ),
    Scenario(
        "null tags (Nexus) are dropped",
        lambda s: sequence(json_reply({"name": "org/app", "tags": [None, "1.0", None, "2.0"]})),
        tags=["1.0", "2.0"],
    ),
    Scenario(
        "next-page Link to another host is refused",
        lambda s: sequence(
            json_reply(
                TAGS, headers=[("Link", '<https://evil.example.invalid/v2/org/app/tags/list?last=2>; rel="next"')]
            )
        ),
        error="next-page Link to another origin, https://evil.example.invalid:443; refusing to follow it",
    ),
    Scenario(
        "redirect to another origin drops Authorization",
        redirect_elsewhere,
        tags=["1.0", "1.1", "2.0"],
        check=no_authorization_elsewhere,
    ),
    Scenario(
        "https registry with a plain-http realm",
        lambda s: bearer(s, f'Bearer realm="http://{s.other.host}/token"', lambda r, n: tags_ok()),
        options=CREDENTIALS,
        error="is not https; refusing to ask it for a token",
        check=lambda s, e: None if not s.other.requests else pytest.fail("the http realm was contacted"),
    ),
    Scenario(
        "plain-http registry the user allowed, realm on its own host",
        lambda s: bearer(s, 'Bearer realm="/token"', lambda r, n: tags_ok()),
        options={**CREDENTIALS, "http_registries": ["{main}"]},
        tags=["1.0", "1.1", "2.0"],
        tls=False,
    ),
    Scenario(
        "plain-http registry, plain-http realm on another host: no credentials sent",
        lambda s: bearer(
            s, f'Bearer realm="http://localhost:{s.main.host.split(":")[1]}/token"', lambda r, n: tags_ok()
        ),
        options={**CREDENTIALS, "http_registries": ["{main}"]},
        error="is plain http on another host than the registry; refusing to send it credentials",
        check=expect_count("/token", 0),
        tls=False,
    ),
    Scenario(
        "plain-http registry that was not allowed",
        lambda s: sequence(tags_ok()),
        error="the server seems to speak plain HTTP; list the registry in http_registries",
        tls=False,
    ),
    Scenario(
        "slow registry: read timeout",
        lambda s: sequence(Reply(200, TAGS, [("Content-Type", "application/json")], delay=4)),
        options={"timeout": 1},
        error="no answer within 1 s",
    ),
    Scenario(
        "slow token service: read timeout",
        lambda s: bearer(
            s,
            'Bearer realm="/token"',
            lambda r, n: tags_ok(),
            token_reply=Reply(200, {"token": "late"}, [("Content-Type", "application/json")], delay=4),
        ),
        options={"timeout": 1},
        error="/token: no answer within 1 s",
    ),
    Scenario(
        "malformed challenge",
        lambda s: sequence(Reply(401, b"", [("WWW-Authenticate", 'Bearer realm="https://unterminated')])),
        error="unterminated quoted string in header",
    ),
]


@pytest.fixture
def servers(fault_pki: Path, request: pytest.FixtureRequest) -> t.Iterator[Servers]:
    scenario: Scenario = request.param
    with FaultServer(fault_pki, tls=scenario.tls) as main, FaultServer(fault_pki) as other:
        yield Servers(main, other)


def _options(scenario: Scenario, servers: Servers) -> dict[str, t.Any]:
    options = {"ca_path": servers.main.ca, "timeout": 10, "retry_max_wait": 10, **scenario.options}
    if "http_registries" in options:
        options["http_registries"] = [h.format(main=servers.main.host) for h in options["http_registries"]]
    return options


def _verify(scenario: Scenario, servers: Servers, run: Run, outcome: tuple[list[str] | None, str, float]) -> None:
    tags, message, elapsed = outcome
    if scenario.tags is not None:
        assert run.rc == 0, run.output
        assert tags == scenario.tags
    else:
        assert run.rc != 0, run.output
        assert scenario.error and scenario.error in message, message
        assert len(message) < 1000, "errors stay short"
        assert "Traceback" not in run.output
    assert "Fault-canary-pass" not in run.output
    if scenario.check:
        scenario.check(servers, elapsed)


@pytest.mark.parametrize(
    ("servers", "scenario"), [(s, s) for s in SCENARIOS], ids=[s.name for s in SCENARIOS], indirect=["servers"]
)
@pytest.mark.parametrize("edge", ["module", "lookup"])
def test_fault(servers: Servers, scenario: Scenario, edge: str) -> None:
    servers.main.handler = scenario.handler(servers)
    image = f"{servers.main.host}/org/app"
    started = time.monotonic()
    if edge == "module":
        run = run_module({"images": [image], **_options(scenario, servers)})
        tags = run.result.get("images", [{}])[0].get("tags") if run.rc == 0 else None
        message = run.result.get("msg", "")
    else:
        run = run_lookup([image], {**_options(scenario, servers), "sort": "none"})
        tags = run.result.get("msg") if run.rc == 0 else None
        message = run.result.get("msg", "")
    _verify(scenario, servers, run, (tags, message, time.monotonic() - started))
