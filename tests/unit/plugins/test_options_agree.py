"""The doc fragments, the module's argument spec and the lookup's options agree."""

from __future__ import annotations

import typing as t

import pytest
import yaml
from ansible.plugins.loader import lookup_loader

from ansible_collections.tagscope.registry.plugins.doc_fragments import connection, selection
from ansible_collections.tagscope.registry.plugins.lookup import image_tags as lookup_plugin
from ansible_collections.tagscope.registry.plugins.module_utils._argspec import (
    common_argument_spec,
    module_argument_spec,
    selection_argument_spec,
)
from ansible_collections.tagscope.registry.plugins.modules import image_tags as module

CONNECTION = yaml.safe_load(connection.ModuleDocFragment.DOCUMENTATION)["options"]
PLUGINS = yaml.safe_load(connection.ModuleDocFragment.PLUGINS)["options"]
SELECTION = yaml.safe_load(selection.ModuleDocFragment.DOCUMENTATION)["options"]


def _comparable(spec: dict[str, t.Any]) -> tuple[t.Any, ...]:
    return (spec.get("type", "str"), spec.get("default"), spec.get("elements"), spec.get("choices"))


@pytest.mark.parametrize(
    ("fragment", "spec"),
    [(CONNECTION, common_argument_spec()), (SELECTION, selection_argument_spec())],
    ids=["connection", "selection"],
)
def test_fragment_documents_exactly_its_options(fragment: dict[str, t.Any], spec: dict[str, t.Any]) -> None:
    assert set(fragment) == set(spec)
    for name, option in spec.items():
        assert _comparable(fragment[name]) == _comparable(option), name


def test_every_env_fallback_is_documented_for_module_and_lookup() -> None:
    for name, option in common_argument_spec().items():
        fallback = option.get("fallback")
        if not fallback:
            continue
        env_names = fallback[1]
        described = " ".join(CONNECTION[name]["description"])
        for env in env_names:
            assert f"E({env})" in described, name
        assert [entry["name"] for entry in PLUGINS[name]["env"]] == env_names, name


def test_module_documents_its_own_options() -> None:
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    shared = {**common_argument_spec(), **selection_argument_spec()}
    own = {k: v for k, v in module_argument_spec().items() if k not in shared}
    assert set(documented) == set(own)
    for name, option in own.items():
        assert _comparable(documented[name]) == _comparable(option)
        assert documented[name].get("aliases", []) == option.get("aliases", [])


def test_secrets_are_no_log() -> None:
    assert common_argument_spec()["password"]["no_log"] is True


def test_lookup_knows_every_shared_option() -> None:
    lookup = lookup_loader.get("tagscope.registry.image_tags")
    lookup.set_options(var_options={}, direct={})
    for name, option in {**common_argument_spec(), **selection_argument_spec()}.items():
        assert lookup.get_option(name) == option.get("default"), name
    own = yaml.safe_load(lookup_plugin.DOCUMENTATION)["options"]
    assert set(own) == {"_terms", "latest"}
