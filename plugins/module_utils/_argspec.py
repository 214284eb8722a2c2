# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The module's argument spec, derived from the table of shared options (``_registry/table.py``).

The doc fragments ``tagscope.registry.connection`` and ``tagscope.registry.selection`` document the same options;
``tests/unit`` checks them against the table field by field.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.basic import env_fallback

from ansible_collections.tagscope.registry.plugins.module_utils._registry.table import (
    CONNECTION_DOCS,
    MODULE,
    OPTIONS,
    SELECTION_DOCS,
    Option,
    default,
)


def option_spec(option: Option) -> dict[str, t.Any]:
    """One entry of an argument spec, as AnsibleModule and ArgumentSpecValidator take it."""
    spec: dict[str, t.Any] = {"type": option.type}
    if option.default is not None:
        spec["default"] = default(option.name)
    if option.elements:
        spec["elements"] = option.elements
    if option.choices:
        spec["choices"] = list(option.choices)
    if option.aliases:
        spec["aliases"] = list(option.aliases)
    if option.no_log is not None:
        spec["no_log"] = option.no_log
    if option.env_name:
        spec["fallback"] = (env_fallback, [option.env_name])
    return spec


def shared_argument_spec(*, face: str = MODULE, docs: str | None = None) -> dict[str, dict[str, t.Any]]:
    """The table's options that ``face`` takes (those one doc fragment documents, with ``docs``)."""
    return {
        option.name: option_spec(option)
        for option in OPTIONS
        if face in option.faces and (docs is None or option.docs == docs)
    }


def common_argument_spec() -> dict[str, dict[str, t.Any]]:
    """How to reach registries and who to be (the ``tagscope.registry.connection`` doc fragment)."""
    return shared_argument_spec(docs=CONNECTION_DOCS)


def selection_argument_spec() -> dict[str, dict[str, t.Any]]:
    """Which tags, in which order, and when to fail (the ``tagscope.registry.selection`` doc fragment)."""
    return shared_argument_spec(docs=SELECTION_DOCS)


def module_argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = {
        "images": {"type": "list", "elements": "str", "required": True, "aliases": ["image", "name"]},
        "list_tags": {"type": "bool", "default": True},
        # Read by the action plugin, which merges the fact; the module itself only reports.
        "merge_facts": {"type": "bool", "default": True},
    }
    spec.update(shared_argument_spec())
    return spec
