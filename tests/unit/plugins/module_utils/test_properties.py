"""Property-based tests: any input gives a result or the core's own error, never another exception."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    InvalidReferenceError,
    ProtocolError,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.headers import (
    Challenge,
    next_link,
    parse_www_authenticate,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.tagscope.registry.plugins.module_utils._registry.select import Selection
from ansible_collections.tagscope.registry.plugins.module_utils._registry.versions import Version, sort_key

HEADER_ALPHABET = st.sampled_from([*'abcRealmBearerBasic ="\\,;:/.-_~+<>?&@\t', "é", "\x00"])
header_text = st.text(alphabet=HEADER_ALPHABET, max_size=80) | st.text(max_size=80)

token = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-._~+!#$%&'*^`|", min_size=1, max_size=12)
quoted_value = st.text(max_size=20).filter(lambda value: "\x00" not in value)


@st.composite
def challenge_headers(draw: st.DrawFn) -> tuple[str, list[tuple[str, dict[str, str]]]]:
    """Well-formed headers built from parts, with the challenges they must parse to."""
    built = []
    parts = []
    for _index in range(draw(st.integers(1, 3))):
        scheme = draw(token)
        params = draw(st.dictionaries(token.map(str.lower), quoted_value, max_size=3))
        escaped = ", ".join(
            f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
            for name, value in params.items()
        )
        parts.append(f"{scheme} {escaped}" if params else scheme)
        built.append((scheme.lower(), params))
    return ", ".join(parts), built


@given(header_text)
@example('Bearer realm="x", , ,Basic')
@example("=")
@example('Bearer realm="unterminated')
@settings(max_examples=400)
def test_any_challenge_header_parses_or_is_a_protocol_error(header: str) -> None:
    try:
        challenges = parse_www_authenticate(header)
    except ProtocolError:
        return
    assert all(
        isinstance(challenge, Challenge) and challenge.scheme == challenge.scheme.lower() for challenge in challenges
    )


@given(challenge_headers())
@settings(max_examples=300)
def test_built_challenges_parse_back(case: tuple[str, list[tuple[str, dict[str, str]]]]) -> None:
    header, expected = case
    parsed = parse_www_authenticate(header)
    # A parameterless scheme followed by another challenge reads as a token68 only when it looks like one;
    # compare what a client uses: schemes with their parameters.
    with_params = [(c.scheme, c.params) for c in parsed if c.params]
    assert with_params == [(scheme, params) for scheme, params in expected if params]


@given(st.text(max_size=300))
@example("a" * 300)
@example("UPPER/case:tag")
@example("host:99999999/app")
@settings(max_examples=500)
def test_any_reference_parses_or_is_an_invalid_reference(text: str) -> None:
    try:
        ref = ImageReference.parse(text)
    except InvalidReferenceError as exc:
        assert exc.hint
        return
    # A parsed reference round-trips.
    assert ImageReference.parse(str(ref)) == ref


@given(
    header_text, st.sampled_from(["https://r.example.com/v2/a/tags/list", "http://127.0.0.1:5000/v2/x/tags/list?n=5"])
)
@example("<//evil.example.com/x>; rel=next", "https://r.example.com/v2/a/tags/list")
@example("<https://r.example.com:99999/x>; rel=next", "https://r.example.com/v2/a/tags/list")
@example("<http://[::1/x>; rel=next", "https://r.example.com/v2/a/tags/list")
@settings(max_examples=400)
def test_any_link_header_gives_a_same_origin_url_or_a_protocol_error(header: str, url: str) -> None:
    try:
        found = next_link(header, url)
    except ProtocolError:
        return
    if found is not None:
        host = url.split("/")[2]
        assert found.split("/")[2] in (host, f"{host}:443", host.split(":", maxsplit=1)[0])


versions = st.builds(
    lambda v, numbers, pre, variant, build: (
        f"{v}{'.'.join(map(str, numbers))}{'-' + pre if pre else ''}{'-' + variant if variant else ''}"
        f"{'_' + build if build else ''}"
    ),
    st.sampled_from(["", "v"]),
    st.lists(st.integers(0, 20), min_size=1, max_size=4),
    st.sampled_from(["", "rc.1", "rc.2", "beta", "beta.11", "alpha.1", "0.3.7", "M1"]),
    st.sampled_from(["", "alpine", "slim", "r1"]),
    st.sampled_from(["", "build.7", "build.10"]),
)


@given(st.text(max_size=40))
def test_any_tag_is_a_version_or_not(text: str) -> None:
    version = Version.parse(text)
    if version is None:
        return
    # What is parsed is what the text says: its numbers and the kind of its suffix.
    assert version.text == text
    assert ".".join(map(str, version.release)) in text.lstrip("vV")
    assert not (version.variant and version.variant not in text.lower())


@given(versions)
def test_generated_versions_parse_to_their_parts(text: str) -> None:
    version = Version.parse(text)
    assert version is not None, text
    assert version.is_prerelease == any(f"-{pre}" in text for pre in ("rc", "beta", "alpha", "0.3.7", "M1"))
    assert version.variant == next((v for v in ("alpine", "slim", "r1") if f"-{v}" in text), "")


@given(versions, versions)
def test_precedence_is_antisymmetric_and_consistent_with_equality(left: str, right: str) -> None:
    a, b = Version.parse(left), Version.parse(right)
    assert a is not None and b is not None
    assert (a.key < b.key) + (a.key == b.key) + (a.key > b.key) == 1
    if a.key < b.key:
        assert not b.key < a.key
    assert (sort_key(a) < sort_key(b)) != (sort_key(b) < sort_key(a)) or left == right


@given(versions, versions, versions)
def test_precedence_is_transitive(first: str, second: str, third: str) -> None:
    a, b, c = (Version.parse(text) for text in (first, second, third))
    assert a is not None and b is not None and c is not None
    if a.key <= b.key and b.key <= c.key:
        assert a.key <= c.key
    if sort_key(a) <= sort_key(b) <= sort_key(c):
        assert sort_key(a) <= sort_key(c)


@given(st.lists(versions, min_size=1, max_size=8))
def test_latest_is_the_maximum_within_the_plain_variant(texts: list[str]) -> None:
    parsed = [Version.parse(text) for text in texts]
    stable = [v for v in parsed if v is not None and not v.is_prerelease and not v.variant]
    latest = Selection.build().latest(texts)
    if not stable:
        return
    assert latest is not None
    chosen = Version.parse(latest)
    assert chosen is not None
    assert all(chosen.key >= other.key for other in stable)
