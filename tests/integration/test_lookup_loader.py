"""The lookup, loaded through lookup_loader so that its option docs are used, against the kit."""

from __future__ import annotations

import typing as t

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader


@pytest.fixture
def lookup() -> t.Any:
    return lookup_loader.get("tagscope.registry.image_tags")


def test_one_term_returns_its_tags(kit: dict[str, t.Any], lookup: t.Any) -> None:
    tags = lookup.run([f"{kit['token_registry']}/public/hello"], variables={}, ca_path=kit["ca"])
    assert sorted(tags) == sorted(kit["repos"]["public/hello"])


def test_options_come_from_variables(kit: dict[str, t.Any], lookup: t.Any) -> None:
    variables = {
        "tagscope_registry_username": "robot$ci",
        "tagscope_registry_password": kit["users"]["robot$ci"],
        "tagscope_registry_ca_path": kit["ca"],
    }
    tags = lookup.run([f"{kit['token_registry']}/private/app:1.0.0"], variables=variables)
    assert sorted(tags) == sorted(kit["repos"]["private/app"])


def test_several_terms_are_concatenated_in_order(kit: dict[str, t.Any], lookup: t.Any) -> None:
    registry = kit["token_registry"]
    tags = lookup.run(
        [f"{registry}/public/hello", f"{registry}/private/app"],
        variables={},
        ca_path=kit["ca"],
        username="alice",
        password=kit["users"]["alice"],
    )
    hello = len(kit["repos"]["public/hello"])
    assert sorted(tags[:hello]) == sorted(kit["repos"]["public/hello"])
    assert sorted(tags[hello:]) == sorted(kit["repos"]["private/app"])


def test_paging_through_2500_tags(kit: dict[str, t.Any], lookup: t.Any) -> None:
    tags = lookup.run([f"{kit['paging_registry']}/public/many"], variables={}, ca_path=kit["ca"])
    assert len(tags) == kit["repos"]["public/many"]["count"]
    assert len(set(tags)) == len(tags)
    assert tags[0] == kit["repos"]["public/many"]["first"]
    assert tags[-1] == kit["repos"]["public/many"]["last"]


def test_errors_become_lookup_errors(kit: dict[str, t.Any], lookup: t.Any) -> None:
    with pytest.raises(AnsibleLookupError, match="not found or access denied for anonymous access"):
        lookup.run([f"{kit['token_registry']}/private/app"], variables={}, ca_path=kit["ca"])


def test_no_terms(lookup: t.Any) -> None:
    with pytest.raises(AnsibleLookupError, match="needs at least one image reference"):
        lookup.run([], variables={})
