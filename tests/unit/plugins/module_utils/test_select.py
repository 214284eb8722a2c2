from __future__ import annotations

import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ConfigurationError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.select import Selection, nearest
from tests.kit.seed import PRIVATE_TAGS

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


@pytest.mark.parametrize("case", CASES, ids=[str(c.options) for c in CASES])
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


@pytest.mark.parametrize("case", NEAREST, ids=[c.wanted for c in NEAREST])
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
)
def test_bad_selection(options: dict[str, t.Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Selection.build(**options)
    assert message in str(caught.value)
