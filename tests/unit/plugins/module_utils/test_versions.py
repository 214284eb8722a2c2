from __future__ import annotations

import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ConfigurationError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.versions import (
    Constraint,
    Version,
    sort_key,
)
from tests.unit.ids import case_id


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


@pytest.mark.parametrize("case", ORDER, ids=[case_id(f"{c.lower}<{c.higher}") for c in ORDER])
def test_precedence(case: Order) -> None:
    lower, higher = Version.parse(case.lower), Version.parse(case.higher)
    assert lower is not None and higher is not None
    assert lower.key < higher.key
    assert sort_key(lower) < sort_key(higher)


# Masterminds/semver, version_test.go, TestCompare (commit 06903f9), the whole table: -1, 0, 1 as Compare says.
# The last three rows are SemVer's rule for identifiers with a hyphen (``-2``): not only digits, so they compare
# as text in ASCII order and rank above numeric ones.
MASTERMINDS_COMPARE = [
    ("1.2.3", "1.5.1", -1),
    ("2.2.3", "1.5.1", 1),
    ("2.2.3", "2.2.2", 1),
    ("3.2-beta", "3.2-beta", 0),
    ("1.3", "1.1.4", 1),
    ("4.2", "4.2-beta", 1),
    ("4.2-beta", "4.2", -1),
    ("4.2-alpha", "4.2-beta", -1),
    ("4.2-alpha", "4.2-alpha", 0),
    ("4.2-beta.2", "4.2-beta.1", 1),
    ("4.2-beta2", "4.2-beta1", 1),
    ("4.2-beta", "4.2-beta.2", -1),
    ("4.2-beta", "4.2-beta.foo", -1),
    ("4.2-beta.2", "4.2-beta", 1),
    ("4.2-beta.foo", "4.2-beta", 1),
    ("1.2+bar", "1.2+baz", 0),
    ("1.0.0-beta.4", "1.0.0-beta.-2", -1),
    ("1.0.0-beta.-2", "1.0.0-beta.-3", -1),
    ("1.0.0-beta.-3", "1.0.0-beta.5", 1),
    # Not in Masterminds' table; SemVer 2.0 §11.4.2: compared as text, -10 ranks below -9.
    ("1.0.0-beta.-10", "1.0.0-beta.-9", -1),
]


@pytest.mark.parametrize(("left", "right", "expected"), MASTERMINDS_COMPARE, ids=case_id)
def test_masterminds_compare(left: str, right: str, expected: int) -> None:
    a, b = Version.parse(left), Version.parse(right)
    assert a is not None and b is not None
    assert (a.key > b.key) - (a.key < b.key) == expected
    # What a user sees: constraints compare these keys, and the tag order puts the lower first.
    assert Constraint.parse(f">={right}").allows(a) is (expected >= 0)
    assert Constraint.parse(f"=={right}").allows(a) is (expected == 0)
    if expected:
        assert (sort_key(a) < sort_key(b)) is (expected < 0)


EQUAL = [("1.2", "1.2.0"), ("v1.2.0", "1.2"), ("1.0.0_build.7", "1.0.0"), ("3", "3.0.0"), ("1.0.0-rc.1", "v1.0-rc.1")]


@pytest.mark.parametrize(("left", "right"), EQUAL, ids=case_id)
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


@pytest.mark.parametrize("text", NOT_VERSIONS, ids=case_id)
def test_not_versions(text: str) -> None:
    assert Version.parse(text) is None


PRERELEASE = [
    ("1.0.0-rc.1", True),
    ("1.0.0", False),
    ("1.0.0_build.1", False),
    # A suffix that is not a prerelease word is a variant: a stable release of it.
    ("3.12-alpine", False),
    ("3.19-alpine3.18", False),
    ("1.25-bookworm", False),
    ("3.12.1-r1", False),
    ("17-jdk-alpine", False),
    ("2.0.0-beta", True),
    ("2.0.0-BETA.2", True),
    ("1.0.0-rc1", True),
    ("1.0.0-rc.1-alpine", True),
    ("3.7.0b1", True),
    ("2.0rc1", True),
    ("1.2.3-M1", True),
    ("1.0.0-0.3.7", True),  # SemVer: numeric identifiers
    ("1.0.0-x.7.z.92", False),  # SemVer calls it a prerelease; a variant here (see the module docs)
    ("1.0.0-beta.-2", True),  # SemVer: an identifier may start with a hyphen (was read as a variant)
]


# Renovate, lib/modules/versioning/docker/index.spec.ts: isStable.
RENOVATE_STABLE = [
    ("3.7.0", True),
    ("3.7.0b1", False),
    ("3.7-alpine", True),
    ("3.8.0-alpine", True),
    ("3.8.0b1-alpine", False),
    ("3.8.2", True),
    ("3.8.3-SNAPSHOT", False),
    ("3.8.3-1-SNAPSHOT", False),
]


@pytest.mark.parametrize(("text", "stable"), RENOVATE_STABLE, ids=case_id)
def test_renovate_is_stable(text: str, stable: bool) -> None:
    version = Version.parse(text)
    assert version is not None
    assert version.is_prerelease is not stable


# Renovate, same file: isCompatible(version, range) is "the same variant".
RENOVATE_COMPATIBLE = [
    ("3.7.0", "3.7.0", True),
    ("3.7.0b1", "3.7.0", True),
    ("3.7-alpine", "3.7.0", False),
    ("3.8.0-alpine", "3.7.0", False),
    ("3.8.0b1-alpine", "3.7.0", False),
    ("3.8.2", "3.7.0", True),
    ("3.7.0", "3.7.0-alpine", False),
    ("3.7.0b1", "3.7.0-alpine", False),
    ("3.8.0-alpine", "3.7.0-alpine", True),
    ("3.8.0b1-alpine", "3.7.0-alpine", True),
    ("3.8.2", "3.7.0-alpine", False),
]


@pytest.mark.parametrize(("text", "other", "compatible"), RENOVATE_COMPATIBLE, ids=case_id)
def test_renovate_variants(text: str, other: str, compatible: bool) -> None:
    left, right = Version.parse(text), Version.parse(other)
    assert left is not None and right is not None
    assert (left.variant == right.variant) is compatible


def test_renovate_sorts_unstable_within_each_variant() -> None:
    # Renovate's "sorts unstable" case. Within a variant our order is Renovate's; across variants Renovate does
    # not compare (it never updates 3.8.0-alpine to 3.8.0), and we put the plain variant first at equal versions.
    renovate = ["3.7.0b1", "3.7.0b5", "3.7.0", "3.7-alpine", "3.8.0b1-alpine", "3.8.0-alpine", "3.8.0", "3.8.2"]
    ours = [v.text for v in sorted((Version.parse(x) for x in reversed(renovate)), key=sort_key)]  # type: ignore[arg-type]
    for variant in ("", "alpine"):

        def of(tags: list[str], variant: str = variant) -> list[str]:
            return [tag for tag in tags if Version.parse(tag).variant == variant]  # type: ignore[union-attr]

        assert of(ours) == of(renovate)
    assert ours == ["3.7.0b1", "3.7.0b5", "3.7.0", "3.7-alpine", "3.8.0b1-alpine", "3.8.0", "3.8.0-alpine", "3.8.2"]


# Renovate, same file: equals and isGreaterThan on loose versions.
@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [("1.2.3", "1.2.3", True), ("18.04", "18.4", True), ("10.0", "10.0.4", False), ("3", "4.0", False)],
    ids=case_id,
)
def test_renovate_equals(left: str, right: str, equal: bool) -> None:
    assert (Version.parse(left).key == Version.parse(right).key) is equal  # type: ignore[union-attr]


def test_builds_rank_after_their_release_by_number() -> None:
    texts = ["1.10.0_build.10", "1.10.0", "1.10.0_build.7", "1.10.0-rc.1", "1.10.1"]
    ordered = [v.text for v in sorted((Version.parse(x) for x in texts), key=sort_key)]  # type: ignore[arg-type]
    assert ordered == ["1.10.0-rc.1", "1.10.0", "1.10.0_build.7", "1.10.0_build.10", "1.10.1"]


@pytest.mark.parametrize(("text", "expected"), PRERELEASE, ids=case_id)
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


@pytest.mark.parametrize("case", CONSTRAINTS, ids=[case_id(c.constraint) for c in CONSTRAINTS])
def test_constraints(case: ConstraintCase) -> None:
    constraint = Constraint.parse(case.constraint)
    for text in case.allowed:
        assert constraint.allows(Version.parse(text)), text  # type: ignore[arg-type]
    for text in case.refused:
        assert not constraint.allows(Version.parse(text)), text  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", ">=", ">=1.2,", "~>1.2", ">=latest", "=>1.2", "1.2 || 2"], ids=case_id)
def test_bad_constraints(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"version constraint .*: cannot read clause"):
        Constraint.parse(text)


# Found by mutation testing (docs/testing.md).


def test_parts_of_a_version() -> None:
    version = Version.parse("v1.2.3-RC1-alpine_build.7")
    assert version is not None
    assert (version.release, version.prerelease, version.variant, version.build) == (
        (1, 2, 3),
        ("rc", "1"),
        "alpine",
        "build.7",
    )
    assert Version.parse("1.0.0-rc.1").prerelease == Version.parse("1.0.0-RC1").prerelease == ("rc", "1")  # type: ignore[union-attr]


def test_a_single_equals_sign_means_equal() -> None:
    constraint = Constraint.parse("=1.4")
    assert constraint.allows(Version.parse("1.4.0"))  # type: ignore[arg-type]
    assert not constraint.allows(Version.parse("1.4.1"))  # type: ignore[arg-type]


def test_constraint_errors_say_how_to_write_one() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Constraint.parse(">=1.2,~2")
    assert str(caught.value) == (
        "version constraint '>=1.2,~2': cannot read clause '~2'; "
        "write clauses like >=1.2,<2 (operators >= <= > < == !=, versions like 1.2.3)"
    )
    with pytest.raises(ConfigurationError) as caught:
        Constraint.parse(">=3.19-alpine,<4-slim")
    assert str(caught.value) == (
        "version constraint '>=3.19-alpine,<4-slim' names several variants (alpine, slim); "
        "a constraint holds within one variant; write it as >=3.19-alpine,<4-alpine"
    )
