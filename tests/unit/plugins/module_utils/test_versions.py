from __future__ import annotations

import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ConfigurationError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.versions import (
    Constraint,
    Version,
    sort_key,
)


class Order(t.NamedTuple):
    lower: str
    higher: str


# Each pair: the first ranks strictly below the second.
ORDER = [
    Order("1.0.0", "1.0.1"),
    Order("1.0.1", "1.1.0"),
    Order("1.9.0", "1.10.0"),
    Order("1.9", "1.10"),
    Order("1.2", "1.10"),
    Order("2", "10"),
    Order("0.9.9", "1"),
    Order("1.0.0-alpha", "1.0.0"),
    Order("1.0.0-alpha", "1.0.0-alpha.1"),
    Order("1.0.0-alpha.1", "1.0.0-alpha.beta"),
    Order("1.0.0-alpha.beta", "1.0.0-beta"),
    Order("1.0.0-beta", "1.0.0-beta.2"),
    Order("1.0.0-beta.2", "1.0.0-beta.11"),
    Order("1.0.0-beta.11", "1.0.0-rc.1"),
    Order("1.0.0-rc.1", "1.0.0"),
    Order("1.0.0-1", "1.0.0-a"),
    Order("2.0.0-rc.2", "2.0.0"),
    Order("1.9.9", "2.0.0-rc.1"),
    Order("v1.2.3", "v1.2.4"),
    Order("v1.2.3", "1.2.4"),
    Order("1.2.3", "V1.3"),
    Order("1.2.3.4", "1.2.3.5"),
    Order("1.2.3", "1.2.3.1"),
    Order("20260101", "20261128"),
    Order("1.0.0_build.9", "1.0.1"),
    Order("1.10.0-rc.1", "1.10.0_build.7"),
]


@pytest.mark.parametrize("case", ORDER, ids=[f"{c.lower}<{c.higher}" for c in ORDER])
def test_precedence(case: Order) -> None:
    lower, higher = Version.parse(case.lower), Version.parse(case.higher)
    assert lower is not None and higher is not None
    assert lower.key < higher.key
    assert sort_key(lower) < sort_key(higher)


EQUAL = [("1.2", "1.2.0"), ("v1.2.0", "1.2"), ("1.0.0_build.7", "1.0.0"), ("3", "3.0.0"), ("1.0.0-rc.1", "v1.0-rc.1")]


@pytest.mark.parametrize(("left", "right"), EQUAL)
def test_equal_precedence(left: str, right: str) -> None:
    assert Version.parse(left).key == Version.parse(right).key  # type: ignore[union-attr]


NOT_VERSIONS = [
    "latest",
    "stable",
    "edge",
    "sha-1a2b3c4",
    "sha-deadbee",
    "nightly-20261128",
    "release-candidate",
    "multi",
    "v",
    "1.",
    ".1",
    "1..2",
    "1.2-",
    "1.0.0-rc..1",
    "main-1.0",
    "1.0.0+",
    "vv1",
    "1.2.3 ",
    "x1.2",
]


@pytest.mark.parametrize("text", NOT_VERSIONS)
def test_not_versions(text: str) -> None:
    assert Version.parse(text) is None


PRERELEASE = [("1.0.0-rc.1", True), ("1.0.0", False), ("1.0.0_build.1", False), ("3.12-alpine", True)]


@pytest.mark.parametrize(("text", "expected"), PRERELEASE)
def test_is_prerelease(text: str, expected: bool) -> None:
    assert Version.parse(text).is_prerelease is expected  # type: ignore[union-attr]


def test_sorting_a_real_tag_list() -> None:
    tags = ["1.10.0", "v2.1.0", "1.2.0", "2.0.0-rc.1", "1.9.0", "2.0.0", "1.2.0-beta.2", "2.1", "1.2.0-alpha"]
    parsed = sorted((Version.parse(tag) for tag in tags), key=sort_key)  # type: ignore[arg-type]
    assert [v.text for v in parsed] == [
        "1.2.0-alpha",
        "1.2.0-beta.2",
        "1.2.0",
        "1.9.0",
        "1.10.0",
        "2.0.0-rc.1",
        "2.0.0",
        "2.1",
        "v2.1.0",
    ]


class ConstraintCase(t.NamedTuple):
    constraint: str
    allowed: list[str]
    refused: list[str]


CONSTRAINTS = [
    ConstraintCase(">=1.2,<2", ["1.2", "1.2.0", "1.10.0", "v1.99"], ["1.1.9", "2", "2.0.0", "0.9"]),
    ConstraintCase(">= 1.2 , < 2", ["1.5.0"], ["2.0.0"]),
    ConstraintCase("==1.4", ["1.4", "1.4.0", "v1.4.0"], ["1.4.1"]),
    ConstraintCase("1.4.1", ["1.4.1"], ["1.4.2"]),
    ConstraintCase("!=1.4.0,>1", ["1.4.1", "1.0.1"], ["1.4.0", "1.0.0", "0.1"]),
    ConstraintCase("<2.0.0", ["1.9", "1.99.0-rc.1"], ["2.0.0", "2.0.0-rc.1", "v2-beta"]),
    ConstraintCase("<2.0.0-rc.2", ["2.0.0-rc.1", "1.9"], ["2.0.0-rc.2", "2.0.0"]),
    ConstraintCase(">=2.0.0-rc.1", ["2.0.0-rc.1", "2.0.0-rc.2", "2.0.0"], ["2.0.0-beta", "1.9"]),
    ConstraintCase("<=v3", ["3.0.0", "2"], ["3.0.1"]),
]


@pytest.mark.parametrize("case", CONSTRAINTS, ids=[c.constraint for c in CONSTRAINTS])
def test_constraints(case: ConstraintCase) -> None:
    constraint = Constraint.parse(case.constraint)
    for text in case.allowed:
        assert constraint.allows(Version.parse(text)), text  # type: ignore[arg-type]
    for text in case.refused:
        assert not constraint.allows(Version.parse(text)), text  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", ">=", ">=1.2,", "~>1.2", ">=latest", "=>1.2", "1.2 || 2"])
def test_bad_constraints(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"version constraint .*: cannot read clause"):
        Constraint.parse(text)
