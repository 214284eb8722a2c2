"""What of a registry's error body reaches the message: its code and message, or a short excerpt of the page."""

from __future__ import annotations

import json
import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import Identity
from ansible_collections.tagscope.registry.plugins.module_utils._registry.replies import (
    error_detail,
    excerpt,
    failure,
    insufficient_scope,
    rejected,
    token_refused,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import Reply
from tests.unit.ids import case_id


def reply(status: int, body: t.Any = b"", headers: dict[str, str] | None = None, reason: str = "") -> Reply:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Reply("GET", "https://r.example/v2/a/tags/list", status, reason, headers or {}, content)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", (None, None)),
        ({"errors": [{"code": "DENIED", "message": "no access"}, {"code": "OTHER"}]}, ("DENIED", "no access")),
        ({"errors": [{"code": "DENIED"}]}, ("DENIED", None)),
        ({"errors": [{"message": "only a message"}]}, (None, "only a message")),
        ({"errors": [{"code": 7, "message": 8}]}, ("7", "8")),
        ({"errors": []}, (None, None)),
        ({"errors": ["text"]}, (None, None)),
        ({"details": "quota <b>exceeded</b>", "message": "m"}, (None, "quota exceeded")),
        ({"message": "m", "error": "e"}, (None, "m")),
        ({"error": "invalid_grant"}, (None, "invalid_grant")),
        ({"error": {"nested": True}}, (None, None)),
        (["a list"], (None, None)),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", (None, "502 Bad Gateway")),
        (b"   ", (None, None)),
    ],
    ids=case_id,
)
def test_error_detail(body: t.Any, detail: tuple[str | None, str | None]) -> None:
    assert error_detail(reply(500, body)) == detail


def test_an_excerpt_is_flat_and_short() -> None:
    assert excerpt("a\n  b\t<i>c</i>") == "a b c"
    assert excerpt("x" * 200) == "x" * 200
    assert excerpt("x" * 201) == "x" * 200 + "..."


@pytest.mark.parametrize(
    ("status", "kind", "message"),
    [
        (400, "RegistryError", "400 Bad Request; the registry refused the request"),
        (499, "RegistryError", "499 Client Closed; the registry refused the request"),
        (500, "RegistryError", "500 Server Error; the registry failed; try again later"),
        (
            403,
            "AuthenticationError",
            "403 Forbidden: access denied; check that these credentials may pull this repository",
        ),
        (
            429,
            "RateLimitedError",
            "429 Too Many: rate limited by the registry; wait, or authenticate to get a higher limit",
        ),
    ],
    ids=case_id,
)
def test_failures_by_status(status: int, kind: str, message: str) -> None:
    reason = message.split(":", maxsplit=1)[0].split(";", maxsplit=1)[0].split(" ", 1)[1]
    error = failure(reply(status, reason=reason), None, "GET", "https://r.example/v2/a/tags/list")
    assert type(error).__name__ == kind
    assert str(error) == f"GET https://r.example/v2/a/tags/list: {message}"
    assert error.status == status


def test_a_404_outside_a_repository_is_not_a_missing_repository() -> None:
    error = failure(reply(404, reason="Not Found"), None, "GET", "https://auth.example/token")
    assert type(error).__name__ == "RegistryError"
    assert str(error) == "GET https://auth.example/token: 404 Not Found; the registry refused the request"


def test_a_status_without_reason_or_code_stands_alone() -> None:
    error = failure(reply(500), None, "GET", "https://r.example/v2/")
    assert str(error) == "GET https://r.example/v2/: 500; the registry failed; try again later"


@pytest.mark.parametrize(("attempts", "said"), [(1, ""), (2, ", after 2 attempts")], ids=case_id)
def test_a_second_attempt_is_counted(attempts: int, said: str) -> None:
    answer = reply(502, reason="Bad Gateway")
    answer.attempts = attempts
    error = failure(answer, None, "GET", "https://r.example/v2/")
    assert str(error) == f"GET https://r.example/v2/: 502 Bad Gateway{said}; the registry failed; try again later"


def test_attempts_are_counted_in_the_summary() -> None:
    answer = reply(503, reason="Service Unavailable")
    answer.attempts = 3
    error = failure(answer, None, "GET", "https://r.example/v2/")
    assert (
        str(error)
        == "GET https://r.example/v2/: 503 Service Unavailable, after 3 attempts; the registry failed; try again later"
    )


@pytest.mark.parametrize(
    ("header", "insufficient"),
    [
        ('Bearer realm="https://a/token",error="insufficient_scope"', True),
        ('Basic realm="x", Bearer realm="https://a/token",error="insufficient_scope"', True),
        ('Bearer realm="https://a/token",error="invalid_token"', False),
        ('Bearer realm="https://a/token"', False),
        ('Bearer realm="unterminated', False),
        (None, False),
    ],
    ids=case_id,
)
def test_insufficient_scope(header: str | None, insufficient: bool) -> None:
    assert insufficient_scope(reply(401, headers={"WWW-Authenticate": header} if header else {})) is insufficient


@pytest.mark.parametrize(
    ("header", "identity", "kind", "message"),
    [
        (
            'Bearer realm="https://a/token"',
            Identity(),
            "NotFoundError",
            "401 UNAUTHORIZED: repository not found or access denied for anonymous access; check the repository name, "
            "or set username and password",
        ),
        (
            'Bearer realm="https://a/token",error="insufficient_scope"',
            Identity(username="ci", password="pw"),
            "NotFoundError",
            "401 UNAUTHORIZED: repository not found or access denied for user 'ci'; check the repository name and "
            "that this user may pull it",
        ),
        (
            'Bearer realm="https://a/token"',
            Identity(username="ci", password="pw"),
            "AuthenticationError",
            "401 UNAUTHORIZED: the registry rejected the credentials of user 'ci'; check username and password",
        ),
        (
            'Basic realm="r"',
            Identity(),
            "AuthenticationError",
            "401 UNAUTHORIZED: the registry rejected the credentials of anonymous access; check username and password",
        ),
        (
            'Bearer realm="https://a/token",error="insufficient_scope"',
            Identity(bearer_token="tok"),
            "AuthenticationError",
            "401 UNAUTHORIZED: the registry rejected the credentials of the given token; check the token",
        ),
        (
            'Bearer realm="unterminated',
            Identity(),
            "AuthenticationError",
            "401 UNAUTHORIZED: the registry rejected the credentials of anonymous access; check username and password",
        ),
    ],
    ids=["anonymous", "insufficient-scope", "credentials", "basic-anonymous", "given-token", "bad-header"],
)
def test_rejected(header: str, identity: Identity, kind: str, message: str) -> None:
    error = rejected(reply(401, headers={"WWW-Authenticate": header}), "HEAD", "https://r/v2/a/manifests/1", identity)
    assert type(error).__name__ == kind
    assert str(error) == f"HEAD https://r/v2/a/manifests/1: {message}"
    assert error.context() == {
        "method": "HEAD",
        "url": "https://r/v2/a/manifests/1",
        "status": 401,
        "code": "UNAUTHORIZED",
    }


REJECTED = "UNAUTHORIZED: the token server rejected the credentials"
ANONYMOUS = (
    "UNAUTHORIZED: the token server refuses anonymous access; set username and password for this registry, or log "
    "in with docker login or podman login"
)


@pytest.mark.parametrize(
    ("status", "identity", "message"),
    [
        (200, Identity(), None),
        (500, Identity(username="ci", password="pw"), None),
        (400, Identity(), None),
        (404, Identity(username="ci", password="pw"), None),
        (
            400,
            Identity(username="ci", password="pw"),
            "400 UNAUTHORIZED: the token server rejected the credentials of user 'ci'; check username and password",
        ),
        (
            403,
            Identity(username="ci", password="pw", source="/x/config.json"),
            "403 UNAUTHORIZED: the token server rejected the credentials of user 'ci' (from /x/config.json); check the "
            "credentials in /x/config.json",
        ),
        (
            401,
            Identity(),
            "401 UNAUTHORIZED: the token server refuses anonymous access; set username and password for this "
            "registry, or log in with docker login or podman login",
        ),
        (
            403,
            Identity(),
            "403 UNAUTHORIZED: the token server refuses anonymous access; set username and password for this "
            "registry, or log in with docker login or podman login",
        ),
    ],
    ids=case_id,
)
def test_token_refused(status: int, identity: Identity, message: str | None) -> None:
    error = token_refused(reply(status), identity, "https://a/token")
    if message is None:
        assert error is None
        return
    assert error is not None
    assert str(error) == f"GET https://a/token: {message}"
    assert error.context() == {"method": "GET", "url": "https://a/token", "status": status}
