"""The AAP credential type (extensions/aap/credential_type.yml) injects exactly the variables the collection reads.

The names are read from the collection itself, through the public argument spec and the lookup's option
definitions, never retyped here: a variable renamed in the option table and not in the credential type (or the
other way round) fails here, wherever the table comes to live.
"""

from __future__ import annotations

import re
import typing as t

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.loader import lookup_loader

from ansible_collections.tagscope.registry.plugins.module_utils._argspec import (
    common_argument_spec,
    module_argument_spec,
)
from tests.conftest import REPO

CREDENTIAL_TYPE = yaml.safe_load((REPO / "extensions" / "aap" / "credential_type.yml").read_text())
INJECTED = CREDENTIAL_TYPE["injectors"]["env"]
# The options a registry credential consists of: whose it is, and what proves it.
CREDENTIAL_OPTIONS = ("username", "password", "token", "auth_registry")


def env_fallbacks() -> dict[str, str]:
    """Environment variable -> the shared option it falls back to, from the argument spec's ``fallback`` entries."""
    names: dict[str, str] = {}
    for option, spec in common_argument_spec().items():
        fallback = spec.get("fallback")
        if not fallback:
            continue
        # (strategy, [names], {kwargs}): the lists are the variable names, in the order they are tried.
        for argument in fallback[1:]:
            if isinstance(argument, (list, tuple)):
                names.update(dict.fromkeys(argument, option))
    return names


def test_the_option_table_has_env_fallbacks() -> None:
    # A table read wrongly (an empty dict) would make every check below pass.
    assert set(env_fallbacks().values()) >= set(CREDENTIAL_OPTIONS)


def test_injectors_name_exactly_the_credential_variables_the_collection_reads() -> None:
    fallbacks = env_fallbacks()
    wanted = {name for name, option in fallbacks.items() if option in CREDENTIAL_OPTIONS}
    assert set(INJECTED) == wanted
    # Each option gets one variable, so no credential is injected twice under two names.
    assert sorted(fallbacks[name] for name in INJECTED) == sorted(CREDENTIAL_OPTIONS)


def test_each_variable_carries_the_input_of_its_option() -> None:
    fallbacks = env_fallbacks()
    fields = {field["id"]: field for field in CREDENTIAL_TYPE["inputs"]["fields"]}
    carried = {}  # option -> the input its variable is rendered from
    for variable, template in INJECTED.items():
        referenced = re.fullmatch(r"\{\{ (\w+) \}\}", template)
        assert referenced, f"{variable}: {template!r} is not one input"
        carried[fallbacks[variable]] = referenced.group(1)
    assert carried == {"username": "username", "password": "password", "token": "token", "auth_registry": "registry"}
    assert set(carried.values()) == set(fields)  # no input is left out of the job
    # AAP masks secret inputs in its forms and job output: exactly those the collection keeps out of logs.
    secret = {name for name, field in fields.items() if field.get("secret")}
    assert secret == {carried[option] for option in carried if common_argument_spec()[option].get("no_log")}


def test_registry_is_required() -> None:
    # Credentials that name no registry would go to whichever registry a task asks first.
    assert CREDENTIAL_TYPE["inputs"]["required"] == ["registry"]
    assert CREDENTIAL_TYPE["kind"] == "cloud"  # the kinds AAP allows for custom types: cloud, net


@pytest.fixture
def injected(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment a job gets from a credential of this type, with a value per input."""
    values = {"registry": "registry.example.com:5000", "username": "robot$ci", "password": "pw-1", "token": "tk-2"}
    environment = {}
    for variable, template in INJECTED.items():
        field = template.strip("{} ")
        environment[variable] = values[field]
        monkeypatch.setenv(variable, values[field])
    return environment


def test_the_module_takes_the_injected_credentials(injected: dict[str, str]) -> None:
    validated = ArgumentSpecValidator(module_argument_spec()).validate({"images": ["registry.example.com:5000/a"]})
    assert not validated.error_messages
    params: dict[str, t.Any] = validated.validated_parameters
    for variable, value in injected.items():
        assert params[env_fallbacks()[variable]] == value, variable


def test_the_lookup_takes_the_injected_credentials(injected: dict[str, str]) -> None:
    lookup = lookup_loader.get("tagscope.registry.image_tags")
    lookup.set_options(var_options={}, direct={})
    for variable, value in injected.items():
        assert lookup.get_option(env_fallbacks()[variable]) == value, variable
