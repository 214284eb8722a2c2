"""How an error reads and what context it carries: the module returns both (msg, and image/method/url/status/code)."""

from __future__ import annotations

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    MultipleFailuresError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RegistryConnectionError,
    RegistryError,
)


def test_a_bare_message() -> None:
    error = RegistryError("something failed")
    assert (str(error), error.context()) == ("something failed", {})


def test_a_huge_url_is_shown_by_its_start_and_kept_whole_in_the_context() -> None:
    # Found by fuzzing (tests/fuzz): a registry's next-page Link of 70 kB made a message as long.
    url = "https://r/v2/a/tags/" + "x" * 70_000
    error = ProtocolError("not JSON", method="GET", url=url)
    assert str(error) == f"GET {url[:300]}...: not JSON"
    assert error.context() == {"method": "GET", "url": url}


def test_every_part_in_its_place() -> None:
    error = NotFoundError(
        "404 NAME_UNKNOWN: repository r/a not found",
        method="GET",
        url="https://r/v2/a/tags/list",
        status=404,
        code="NAME_UNKNOWN",
        hint="check the name",
    )
    assert str(error) == "GET https://r/v2/a/tags/list: 404 NAME_UNKNOWN: repository r/a not found; check the name"
    assert error.context() == {
        "method": "GET",
        "url": "https://r/v2/a/tags/list",
        "status": 404,
        "code": "NAME_UNKNOWN",
    }
    error.about("r/a:1.0")
    assert str(error) == (
        "r/a:1.0: GET https://r/v2/a/tags/list: 404 NAME_UNKNOWN: repository r/a not found; check the name"
    )
    assert error.context()["image"] == "r/a:1.0"
    assert error.args == (str(error),)


def test_a_method_without_url_is_not_shown() -> None:
    assert str(RegistryError("x", method="GET")) == "x"
    assert str(RegistryError("x", url="https://r/")) == "x"


def test_at_fills_in_the_request_and_keeps_what_it_is_not_given() -> None:
    error = ProtocolError("bad header", hint="fix the proxy")
    error.at(method="HEAD", url="https://r/v2/a/manifests/1", status=401)
    assert str(error) == "HEAD https://r/v2/a/manifests/1: bad header; fix the proxy"
    assert error.context() == {"method": "HEAD", "url": "https://r/v2/a/manifests/1", "status": 401}
    error.at()
    assert error.context() == {"method": "HEAD", "url": "https://r/v2/a/manifests/1", "status": 401}
    error.at(status=0)
    assert error.status == 0
    assert error.args == (str(error),)


def test_amend_adds_before_the_hint() -> None:
    error = RegistryConnectionError("cannot connect", method="GET", url="https://r/v2/", hint="check the host")
    error.amend(" (after 3 attempts)")
    assert str(error) == "GET https://r/v2/: cannot connect (after 3 attempts); check the host"
    assert error.args == (str(error),)
    assert RegistryConnectionError.retryable is False


def test_rate_limited_keeps_its_wait() -> None:
    assert RateLimitedError("429", retry_after=42.0).retry_after == 42.0
    assert RateLimitedError("429").retry_after is None


def test_several_failures_name_each() -> None:
    first = NotFoundError("not found", method="GET", url="https://r/v2/a/tags/list", status=404).about("r/a")
    second = RegistryError("boom")
    error = MultipleFailuresError([first, second])
    assert str(error) == "2 images failed: r/a: GET https://r/v2/a/tags/list: not found | boom"
    assert error.errors == [first, second]
    assert error.context() == {
        "errors": [
            {
                "msg": "r/a: GET https://r/v2/a/tags/list: not found",
                "image": "r/a",
                "method": "GET",
                "url": "https://r/v2/a/tags/list",
                "status": 404,
            },
            {"msg": "boom"},
        ]
    }
