from __future__ import annotations

import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ProtocolError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.headers import (
    Challenge,
    next_link,
    parse_www_authenticate,
)
from tests.unit.ids import case_id


class ChallengeCase(t.NamedTuple):
    header: str
    expected: list[Challenge]


DOCKER_HUB = (
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'
)

CHALLENGES = [
    ChallengeCase(
        DOCKER_HUB,
        [
            Challenge(
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:library/alpine:pull",
                },
            )
        ],
    ),
    # A quoted scope holds a comma; splitting the header on commas breaks it.
    ChallengeCase(
        'Bearer realm="r",scope="repository:a/b:pull,push"',
        [Challenge("bearer", {"realm": "r", "scope": "repository:a/b:pull,push"})],
    ),
    # Backslash escapes inside quoted strings.
    ChallengeCase(r'Bearer realm="a\"b\\c"', [Challenge("bearer", {"realm": 'a"b\\c'})]),
    # Scheme and parameter names in any case.
    ChallengeCase('BEARER Realm="r", SERVICE="s"', [Challenge("bearer", {"realm": "r", "service": "s"})]),
    # Empty values do not stop the parse.
    ChallengeCase(
        'Bearer realm="r",service="",scope="x"', [Challenge("bearer", {"realm": "r", "service": "", "scope": "x"})]
    ),
    # Several challenges in one header (and joined header lines).
    ChallengeCase(
        'Bearer realm="https://a/token",service="s", Basic realm="b"',
        [Challenge("bearer", {"realm": "https://a/token", "service": "s"}), Challenge("basic", {"realm": "b"})],
    ),
    ChallengeCase(
        'Basic realm="Registry Realm", Bearer realm="r"',
        [Challenge("basic", {"realm": "Registry Realm"}), Challenge("bearer", {"realm": "r"})],
    ),
    # Unquoted token values and whitespace around "=".
    ChallengeCase("Basic realm = ecr", [Challenge("basic", {"realm": "ecr"})]),
    ChallengeCase("Basic", [Challenge("basic", {})]),
    # token68 challenges (Negotiate) before a Bearer one.
    ChallengeCase(
        'Negotiate abc+/==, Bearer realm="r"',
        [Challenge("negotiate", {}), Challenge("bearer", {"realm": "r"})],
    ),
    # No service at all (nvcr.io); error inside a challenge.
    ChallengeCase(
        'Bearer realm="https://nvcr.io/proxy_auth",scope="repository:nvidia/cuda:pull"',
        [Challenge("bearer", {"realm": "https://nvcr.io/proxy_auth", "scope": "repository:nvidia/cuda:pull"})],
    ),
    ChallengeCase(
        'Bearer realm="r",error="insufficient_scope"',
        [Challenge("bearer", {"realm": "r", "error": "insufficient_scope"})],
    ),
    # A realm with its own query, and stray commas.
    ChallengeCase(
        ',Bearer realm="https://h/token?account=x&a=b" ,,',
        [Challenge("bearer", {"realm": "https://h/token?account=x&a=b"})],
    ),
    ChallengeCase("", []),
    # Unquoted values that are not RFC 7235 tokens, as docker (distribution's registry/client/auth/challenge)
    # and regclient accept them: real registries send these.
    ChallengeCase("Basic realm=/", [Challenge("basic", {"realm": "/"})]),
    ChallengeCase(
        'Basic realm=/, Bearer realm="https://h/token"',
        [Challenge("basic", {"realm": "/"}), Challenge("bearer", {"realm": "https://h/token"})],
    ),
    ChallengeCase(
        "Bearer realm=https://auth.example.com/token,service=registry.example.com,scope=repository:a/b:pull",
        [
            Challenge(
                "bearer",
                {
                    "realm": "https://auth.example.com/token",
                    "service": "registry.example.com",
                    "scope": "repository:a/b:pull",
                },
            )
        ],
    ),
]


@pytest.mark.parametrize("case", CHALLENGES, ids=[case_id(c.header[:50] or "empty") for c in CHALLENGES])
def test_parse_www_authenticate(case: ChallengeCase) -> None:
    assert parse_www_authenticate(case.header) == case.expected


@pytest.mark.parametrize("header", ['Bearer realm="unterminated', 'Bearer realm="r" ;', "=nope"], ids=case_id)
def test_parse_www_authenticate_malformed(header: str) -> None:
    with pytest.raises(ProtocolError, match=r"WWW-Authenticate|quoted string"):
        parse_www_authenticate(header)


class LinkCase(t.NamedTuple):
    header: str | None
    request: str
    expected: str | None


BASE = "https://r.example.com/v2/org/app/tags/list?n=100"
LINKS = [
    LinkCase(
        '</v2/org/app/tags/list?last=b&n=100>; rel="next"',
        BASE,
        "https://r.example.com/v2/org/app/tags/list?last=b&n=100",
    ),
    LinkCase(
        "<https://r.example.com/v2/org/app/tags/list?next_page=gAAAAABk%3D%3D&n=50>; rel=next",
        BASE,
        "https://r.example.com/v2/org/app/tags/list?next_page=gAAAAABk%3D%3D&n=50",
    ),
    LinkCase('<https://r.example.com:443/v2/x?last=a>; rel="next"', BASE, "https://r.example.com:443/v2/x?last=a"),
    LinkCase(
        '<list?last=c>; rel="next"',
        "https://r.example.com/v2/org/app/tags/list",
        "https://r.example.com/v2/org/app/tags/list?last=c",
    ),
    LinkCase('</first>; rel="prev", </v2/n?last=z>; rel="next"', BASE, "https://r.example.com/v2/n?last=z"),
    LinkCase('</v2/n?last=a,b>; title="x; y"; rel="next"', BASE, "https://r.example.com/v2/n?last=a,b"),
    LinkCase('</v2/n>; rel="prev"', BASE, None),
    LinkCase(None, BASE, None),
    LinkCase("", BASE, None),
]


@pytest.mark.parametrize("case", LINKS, ids=[case_id(str(c.header)[:50]) for c in LINKS])
def test_next_link(case: LinkCase) -> None:
    assert next_link(case.header, case.request) == case.expected


@pytest.mark.parametrize(
    "header",
    [
        '<https://evil.example.com/v2/org/app/tags/list?last=b>; rel="next"',
        '<http://r.example.com/v2/org/app/tags/list?last=b>; rel="next"',
        '<https://r.example.com:8443/v2/org/app/tags/list>; rel="next"',
        '<//evil.example.com/v2/x>; rel="next"',
    ],
    ids=case_id,
)
def test_next_link_refuses_other_origins(header: str) -> None:
    with pytest.raises(ProtocolError, match="another origin"):
        next_link(header, BASE)


def test_next_link_malformed() -> None:
    with pytest.raises(ProtocolError, match="malformed Link"):
        next_link("/v2/x; rel=next", BASE)


# Found by mutation testing (docs/testing.md): messages and edge cases no test looked at.


def test_a_foreign_link_names_the_origin_it_would_go_to() -> None:
    with pytest.raises(ProtocolError) as caught:
        next_link('<https://evil.example.com:8443/x>; rel="next"', BASE)
    assert str(caught.value) == "registry sent a next-page Link to another origin, https://evil.example.com:8443"


def test_a_link_that_is_not_a_url_says_so() -> None:
    with pytest.raises(ProtocolError) as caught:
        next_link('<https://r.example.com:99999/x>; rel="next"', BASE)
    assert str(caught.value).startswith("registry sent a next-page Link that is not a valid URL (")


def test_a_link_without_rel_is_not_next() -> None:
    assert next_link("</v2/x?last=a>", BASE) is None
    assert next_link("</v2/x?last=a>; title", BASE) is None


def test_link_parameters_without_value_and_in_any_order() -> None:
    assert next_link('</v2/x?last=a>; foo; rel="next"', BASE) == "https://r.example.com/v2/x?last=a"
    assert next_link("</v2/x?last=a>;rel=next", BASE) == "https://r.example.com/v2/x?last=a"


def test_malformed_link_says_where() -> None:
    with pytest.raises(ProtocolError) as caught:
        next_link('</v2/x>; rel="next" junk', BASE)
    assert str(caught.value) == ("""malformed Link header '</v2/x>; rel="next" junk': unexpected 'j' at offset 20""")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('Bearer\trealm="r",\tservice="s"', [Challenge("bearer", {"realm": "r", "service": "s"})]),
        ("Basic realm=/ , Bearer realm=r", [Challenge("basic", {"realm": "/"}), Challenge("bearer", {"realm": "r"})]),
        ("Basic realm=a\tb", None),
    ],
    ids=case_id,
)
def test_tabs_are_white_space(header: str, expected: list[Challenge] | None) -> None:
    if expected is None:
        # "b" after the tab is a new challenge scheme, not part of the realm.
        assert parse_www_authenticate(header) == [Challenge("basic", {"realm": "a"}), Challenge("b")]
    else:
        assert parse_www_authenticate(header) == expected


@pytest.mark.parametrize("header", ["Basic =", 'Basic realm=a"b"'], ids=case_id)
def test_more_malformed_challenges(header: str) -> None:
    with pytest.raises(ProtocolError, match="malformed WWW-Authenticate header"):
        parse_www_authenticate(header)


def test_an_unterminated_link_says_so() -> None:
    with pytest.raises(ProtocolError) as caught:
        next_link("<https://r.example.com/v2/x", BASE)
    assert str(caught.value) == "malformed Link header '<https://r.example.com/v2/x': unterminated '<'"


def test_a_huge_malformed_header_is_shown_by_its_start() -> None:
    # Found by fuzzing (tests/fuzz): a registry's 70 kB header came back whole in the error message.
    huge = "h" * 70_000
    with pytest.raises(ProtocolError) as caught:
        parse_www_authenticate('Bearer realm="' + huge)
    assert str(caught.value) == "unterminated quoted string in header " + repr('Bearer realm="' + "h" * 86) + "..."
    with pytest.raises(ProtocolError) as caught:
        next_link("<" + huge, BASE)
    assert str(caught.value) == "malformed Link header " + repr("<" + "h" * 99) + "...: unterminated '<'"


def test_a_foreign_link_with_a_huge_host_is_shown_by_its_start() -> None:
    # Found by fuzzing (tests/fuzz): the other origin was named whole, host of 60 kB and all.
    with pytest.raises(ProtocolError) as caught:
        next_link("<https://" + "h" * 60_000 + '/v2/x>; rel="next"', BASE)
    assert str(caught.value) == "registry sent a next-page Link to another origin, https://" + "h" * 292 + "..."


def test_a_rel_without_value_is_no_next_link() -> None:
    assert next_link("</v2/x?last=a>; rel", BASE) is None


def test_the_default_port_is_the_same_origin() -> None:
    assert next_link('<http://r.example.com:80/v2/x>; rel="next"', "http://r.example.com/v2/y") == (
        "http://r.example.com:80/v2/x"
    )
    assert next_link('<https://r.example.com:443/v2/x>; rel="next"', "https://r.example.com/v2/y") == (
        "https://r.example.com:443/v2/x"
    )
