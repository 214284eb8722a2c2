from __future__ import annotations

import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ConfigurationError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.select import Selection, nearest
from tests.kit.seed import PRIVATE_TAGS
from tests.unit.ids import case_id

VERSION_ORDER = [
    "0.9.0",
    "1.0.0",
    "1.0.0_hotfix",
    "1.0.1",
    "1.1.0-rc.1",
    "1.1.0",
    "1.2.0-alpha",
    "1.2.0-beta.2",
    "1.2.0",
    "1.4.1",
    "1.5.0",
    "1.9.0",
    "1.10.0",
    "1.10.0_build.7",
    "2.0.0-rc.1",
    "2.0.0-rc.2",
    "2.0.0",
    "2.1",
    "v2.1.0",
    "v2.1.1",
    "2.2.0",
    "3",
]
OTHERS = ["edge", "latest", "multi", "nightly-20261128", "release-candidate", "sha-1a2b3c4", "sha-deadbee", "stable"]


class Case(t.NamedTuple):
    options: dict[str, t.Any]
    tags: list[str]
    latest: str | None


CASES = [
    Case({}, VERSION_ORDER + OTHERS, "3"),
    Case({"reverse": True}, VERSION_ORDER[::-1] + OTHERS, "3"),
    Case({"sort": "lexical"}, sorted(PRIVATE_TAGS), "3"),
    Case({"sort": "none"}, PRIVATE_TAGS, "3"),
    Case(
        {"constraint": ">=1.2,<2"}, ["1.2.0", "1.4.1", "1.5.0", "1.9.0", "1.10.0", "1.10.0_build.7"], "1.10.0_build.7"
    ),
    Case(
        # 1.1.0-rc.1 ranks below 1.1, so even with prereleases it is out.
        {"constraint": ">=1.1,<2", "prereleases": True},
        ["1.1.0", "1.2.0-alpha", "1.2.0-beta.2", "1.2.0", "1.4.1", "1.5.0", "1.9.0", "1.10.0", "1.10.0_build.7"],
        "1.10.0_build.7",
    ),
    Case(
        {"constraint": "<2.1", "prereleases": True, "reverse": True, "limit": 3},
        ["2.0.0", "2.0.0-rc.2", "2.0.0-rc.1"],
        "2.0.0",
    ),
    Case({"constraint": ">=2,<3", "prereleases": False}, ["2.0.0", "2.1", "v2.1.0", "v2.1.1", "2.2.0"], "2.2.0"),
    # Anchored: "1\.0" alone would not keep 1.0.0; "1.*" does not keep 0.9.0 or v2.1.0.
    Case({"include": [r"1\.0"]}, [], None),
    Case({"include": [r"1\.0.*"]}, ["1.0.0", "1.0.0_hotfix", "1.0.1"], "1.0.1"),
    Case({"include": ["v.*"]}, ["v2.1.0", "v2.1.1"], "v2.1.1"),
    Case({"include": ["sha-.*", "edge"]}, ["edge", "sha-1a2b3c4", "sha-deadbee"], None),
    Case(
        {"exclude": [r".*-.*", r".*_.*", "[a-z].*"]},
        [
            "0.9.0",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "1.2.0",
            "1.4.1",
            "1.5.0",
            "1.9.0",
            "1.10.0",
            "2.0.0",
            "2.1",
            "2.2.0",
            "3",
        ],
        "3",
    ),
    Case({"include": [r"2\..*"], "exclude": [".*rc.*"]}, ["2.0.0", "2.1", "2.2.0"], "2.2.0"),
    Case({"limit": 2}, ["0.9.0", "1.0.0"], "3"),
    Case({"limit": 2, "reverse": True}, ["3", "2.2.0"], "3"),
    Case({"sort": "lexical", "reverse": True, "limit": 2}, ["v2.1.1", "v2.1.0"], "3"),
    Case({"include": ["nightly-.*"]}, ["nightly-20261128"], None),
]


@pytest.mark.parametrize("case", CASES, ids=[case_id(str(c.options)) for c in CASES])
def test_selection(case: Case) -> None:
    selection = Selection.build(**case.options)
    selected = selection.filter(PRIVATE_TAGS)
    assert selection.order(selected) == case.tags
    assert selection.latest(selected) == case.latest


class Near(t.NamedTuple):
    wanted: str
    expected: list[str]


NEAREST = [
    Near("1.4.2", ["1.4.1", "1.5.0"]),
    Near("1.3", ["1.2.0", "1.4.1"]),
    Near("0.1", ["0.9.0"]),
    Near("4.0.0", ["3"]),
    Near("2.0.1", ["2.0.0", "2.1"]),
    Near("2.0.0-rc.3", ["2.0.0-rc.2", "2.0.0"]),
    Near("nightly-20261129", ["nightly-20261128"]),
    Near("stabel", ["stable"]),
    Near("zzzzzz", []),
]


@pytest.mark.parametrize("case", NEAREST, ids=[case_id(c.wanted) for c in NEAREST])
def test_nearest(case: Near) -> None:
    assert nearest(case.wanted, PRIVATE_TAGS) == case.expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include": ["(unclosed"]}, "include pattern '(unclosed' is not a valid regular expression"),
        ({"exclude": ["*"]}, "exclude pattern '*' is not a valid regular expression"),
        ({"sort": "semver"}, "sort must be one of version, lexical, none, got 'semver'"),
        ({"limit": 0}, "limit must be 1 or more, got 0"),
        ({"constraint": ">=1.2,"}, "version constraint '>=1.2,': cannot read clause ''"),
    ],
    ids=case_id,
)
def test_bad_selection(options: dict[str, t.Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Selection.build(**options)
    assert message in str(caught.value)


# Docker variants, the way Renovate's docker versioning reads them: 3.19-alpine is a stable 3.19 of "alpine".
ALPINE_TAGS = ["3.18", "3.19", "3.20", "3.18-alpine", "3.19-alpine", "3.20-alpine", "3.21-rc.1-alpine", "latest"]


class Variant(t.NamedTuple):
    options: dict[str, t.Any]
    tags: list[str]
    latest: str | None


VARIANTS = [
    # The filter selects the variant: latest is the newest alpine release, not a prerelease.
    Variant(
        {"include": [".*-alpine"]}, ["3.18-alpine", "3.19-alpine", "3.20-alpine", "3.21-rc.1-alpine"], "3.20-alpine"
    ),
    # A constraint compares the numbers: every variant of 3.19 and later stays, latest is of the plain variant.
    Variant({"constraint": ">=3.19"}, ["3.19", "3.19-alpine", "3.20", "3.20-alpine"], "3.20"),
    # A constraint that names a variant holds within it.
    Variant({"constraint": ">=3.19-alpine"}, ["3.19-alpine", "3.20-alpine"], "3.20-alpine"),
    # Naming a prerelease admits prereleases (PEP 440, Masterminds semver).
    Variant({"constraint": ">=3.21-rc.1-alpine"}, ["3.21-rc.1-alpine"], "3.21-rc.1-alpine"),
    # Without a filter: versions in order, the plain variant first at equal numbers; latest of the plain variant.
    Variant(
        {"sort": "version"},
        ["3.18", "3.18-alpine", "3.19", "3.19-alpine", "3.20", "3.20-alpine", "3.21-rc.1-alpine", "latest"],
        "3.20",
    ),
]


@pytest.mark.parametrize("case", VARIANTS, ids=[case_id(str(c.options)) for c in VARIANTS])
def test_variants(case: Variant) -> None:
    selection = Selection.build(**case.options)
    kept = selection.filter(ALPINE_TAGS)
    assert selection.order(kept) == case.tags
    assert selection.latest(kept) == case.latest


def test_latest_within_the_variant_of_the_reference() -> None:
    # python:3.12-slim asks for the newest slim, whatever else the repository holds.
    tags = ["3.11", "3.12", "3.13", "3.11-slim", "3.12-slim"]
    assert Selection.build().latest(tags, variant="slim") == "3.12-slim"
    assert Selection.build().latest(tags) == "3.13"


def test_several_variants_and_no_plain_one_have_no_latest() -> None:
    assert Selection.build().latest(["1.0-alpine", "1.1-slim"]) is None
    selection = Selection.build(include=[".*-slim"])
    assert selection.latest(selection.filter(["1.0-alpine", "1.1-slim"])) == "1.1-slim"


def test_a_constraint_naming_a_prerelease_admits_prereleases() -> None:
    # PEP 440 and Masterminds semver: ">=1.2.3-alpha.1" matches 1.2.3-alpha.2.
    selection = Selection.build(constraint=">=1.2.3-alpha.1")
    assert selection.filter(["1.2.3-alpha.0", "1.2.3-alpha.2", "1.2.3", "1.2.2"]) == ["1.2.3-alpha.2", "1.2.3"]
    # Without a prerelease in the constraint, prereleases stay out unless asked for.
    assert Selection.build(constraint=">=1.2.0").filter(["1.2.3-alpha.2", "1.2.3"]) == ["1.2.3"]


def test_a_constraint_cannot_name_two_variants() -> None:
    with pytest.raises(ConfigurationError, match="names several variants"):
        Selection.build(constraint=">=3.19-alpine,<4-slim")


def test_nearest_stays_within_the_variant() -> None:
    assert nearest("3.19-alpine", ["3.18", "3.20", "3.18-alpine", "3.20-alpine"]) == ["3.18-alpine", "3.20-alpine"]


# Found by mutation testing (docs/testing.md).


def test_limit_one_is_allowed_and_zero_says_what_to_do() -> None:
    assert Selection.build(limit=1).order(["1.0", "2.0"]) == ["1.0"]
    with pytest.raises(ConfigurationError) as caught:
        Selection.build(limit=0)
    assert str(caught.value) == "limit must be 1 or more, got 0; leave it unset for every tag"


def test_sort_none_keeps_or_reverses_the_registry_order() -> None:
    tags = ["b", "2.0", "a", "1.0"]
    assert Selection.build(sort="none").order(tags) == tags
    assert Selection.build(sort="none", reverse=True).order(tags) == list(reversed(tags))


def test_one_pattern_as_a_string() -> None:
    assert Selection.build(include="1[.][0-9]{1,2}[.]0").filter(["1.0.0", "1.10.0", "2.0.0", "1.0.1"]) == [
        "1.0.0",
        "1.10.0",
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include": {"a": 1}}, "include must be a list of regular expressions (or one as a string), got a mapping"),
        ({"exclude": 7}, "exclude must be a list of regular expressions (or one as a string), got a number"),
        ({"include": [True]}, "include pattern True is a boolean, not a string; quote the pattern in YAML"),
        ({"include": [1.5]}, "include pattern 1.5 is a number, not a string; quote the pattern in YAML"),
        ({"include": [["x"]]}, "include pattern ['x'] is a list, not a string; quote the pattern in YAML"),
        ({"include": [None]}, "include pattern None is a NoneType, not a string; quote the pattern in YAML"),
        ({"include": [b"x"]}, "include pattern b'x' is a bytes, not a string; quote the pattern in YAML"),
        (
            {"exclude": ["(x"]},
            "exclude pattern '(x' is not a valid regular expression: missing ), unterminated subpattern at position 0; "
            "patterns use Python's re syntax and must match the whole tag",
        ),
    ],
    ids=case_id,
)
def test_pattern_errors_in_full(options: dict[str, t.Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Selection.build(**options)
    assert str(caught.value) == message


def test_nearest_versions_never_include_an_equal_version() -> None:
    # 1.4 is missing though 1.4.0 exists (the tag names differ): the nearest are the versions around it.
    assert nearest("1.4", ["1.3.0", "1.4.0", "1.5.0"]) == ["1.3.0", "1.5.0"]


def test_nearest_names_are_two_similar_ones() -> None:
    tags = ["nightly-20261127", "nightly-20261126", "nightly-20261125", "stable"]
    assert nearest("nightly-20261128", tags) == ["nightly-20261127", "nightly-20261126"]
    # Similar enough at a ratio of 0.53 (difflib's default would want 0.6).
    assert nearest("release", ["relaxyz1"]) == ["relaxyz1"]
