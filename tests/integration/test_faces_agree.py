"""The module and the lookup take one path into the core: for every option the lookup takes, the same inputs give
the same tags, the same warnings and the same errors, against the kit's real registry (and, for the rate-limit
headroom the kit's registry does not send, the scripted registry on loopback)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import requests
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.tagscope.registry.plugins.module_utils._registry.table import LOOKUP, names
from ansible_collections.tagscope.registry.plugins.module_utils._registry.tokens import SHARED_TOKENS
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import shared_session
from tests.conftest import COLLECTIONS

from .conftest import ansible_env


class Case(t.NamedTuple):
    images: list[str]
    options: dict[str, t.Any]


def chained(kit: dict[str, t.Any], case: str) -> str:
    """A supply-chain image of the kit, without the registry (the cases add it)."""
    return t.cast(str, kit["supply_chain"]["images"][case]).split("/", 1)[1]


def alice(kit: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"username": "alice", "password": kit["users"]["alice"], "ca_path": kit["ca"]}


def token(kit: dict[str, t.Any]) -> str:
    reply = requests.get(
        kit["realm"],
        params={"service": kit["service"], "scope": "repository:private/app:pull"},
        auth=("alice", kit["users"]["alice"]),
        verify=kit["ca"],
        timeout=30,
    )
    reply.raise_for_status()
    return t.cast(str, reply.json()["token"])


def auth_file(kit: dict[str, t.Any], tmp_path: Path) -> str:
    path = tmp_path / "config.json"
    secret = base64.b64encode(f"alice:{kit['users']['alice']}".encode()).decode()
    path.write_text(json.dumps({"auths": {kit["token_registry"]: {"auth": secret}}}))
    return str(path)


# For each option the lookup takes, a case that makes it matter.
CASES: dict[str, t.Callable[[dict[str, t.Any], Path], Case]] = {
    "username": lambda kit, _: Case(["private/app"], alice(kit)),
    "password": lambda kit, _: Case(["private/app"], {**alice(kit), "password": "Wr0ng-faces-canary"}),
    "token": lambda kit, _: Case(["private/app"], {"token": token(kit), "ca_path": kit["ca"]}),
    "auth_registry": lambda kit, _: Case(["private/app", "public/hello"], alice(kit)),
    "auth_file": lambda kit, tmp: Case(["private/app"], {"auth_file": auth_file(kit, tmp), "ca_path": kit["ca"]}),
    "validate_certs": lambda kit, _: Case(["public/hello"], {"validate_certs": True}),
    "ca_path": lambda kit, _: Case(["public/hello"], {"ca_path": kit["ca"]}),
    "timeout": lambda kit, _: Case(["public/hello"], {"ca_path": kit["ca"], "timeout": 0}),
    "concurrency": lambda kit, _: Case(["public/hello", "private/app"], {**alice(kit), "concurrency": 0}),
    "page_size": lambda kit, _: Case(["private/app"], {**alice(kit), "page_size": 7}),
    "retries": lambda kit, _: Case(["public/hello"], {"ca_path": kit["ca"], "retries": -1}),
    "retry_max_wait": lambda kit, _: Case(["public/hello"], {"ca_path": kit["ca"], "retry_max_wait": -1}),
    "http_registries": lambda kit, _: Case(["public/hello"], {"http_registries": [kit["token_registry"]]}),
    "mirrors": lambda kit, _: Case(["public/hello"], {"ca_path": kit["ca"], "mirrors": {"docker.io": "https://m"}}),
    "min_remaining": lambda kit, _: Case(["public/hello"], {"ca_path": kit["ca"], "min_remaining": -1}),
    "include": lambda kit, _: Case(["private/app"], {**alice(kit), "include": ["1[.].*"]}),
    "exclude": lambda kit, _: Case(["private/app"], {**alice(kit), "exclude": "1[.].*"}),
    "constraint": lambda kit, _: Case(["private/app"], {**alice(kit), "constraint": ">=1.4,<2"}),
    "prereleases": lambda kit, _: Case(["private/app"], {**alice(kit), "prereleases": True, "constraint": ">=2"}),
    "sort": lambda kit, _: Case(["private/app"], {**alice(kit), "sort": "lexical"}),
    "reverse": lambda kit, _: Case(["private/app"], {**alice(kit), "reverse": True}),
    "limit": lambda kit, _: Case(["private/app"], {**alice(kit), "limit": 3, "reverse": True}),
    "fail_on_missing": lambda kit, _: Case(
        ["private/app:1.4.2", "private/app:1.4.1"], {**alice(kit), "fail_on_missing": True}
    ),
    "wait_timeout": lambda kit, _: Case(["private/app:1.4.2"], {**alice(kit), "wait_timeout": 1, "wait_interval": 0.5}),
    "wait_interval": lambda kit, _: Case(["private/app:1.4.2"], {**alice(kit), "wait_timeout": 1, "wait_interval": 0}),
    "platforms": lambda kit, _: Case(
        ["private/app:1.5.0"], {**alice(kit), "fail_on_missing": True, "platforms": ["linux/s390x"]}
    ),
    "allow_moved": lambda kit, _: Case(
        [f"private/app:1.0.0@{kit['repos']['private/app']['1.5.0']}"],
        {**alice(kit), "fail_on_missing": True, "allow_moved": True},
    ),
    # What an image must say about itself: the module gates with fail_on_missing, the lookup always does.
    "digest_tags": lambda kit, _: Case(["signed/app"], {"ca_path": kit["ca"], "digest_tags": True}),
    "signed_by": lambda kit, _: Case(
        [chained(kit, "signed"), chained(kit, "unsigned")],
        {"ca_path": kit["ca"], "fail_on_missing": True, "signed_by": [kit["supply_chain"]["public_key"]]},
    ),
    "require_attestations": lambda kit, _: Case(
        [chained(kit, "buildkit"), chained(kit, "cosign_sbom")],
        {"ca_path": kit["ca"], "fail_on_missing": True, "require_attestations": ["sbom", "provenance"]},
    ),
    "require_labels": lambda kit, _: Case(
        [chained(kit, "mixed_index")],
        {
            "ca_path": kit["ca"],
            "fail_on_missing": True,
            "require_labels": {"org.opencontainers.image.revision": kit["supply_chain"]["revision"]},
        },
    ),
    "min_age": lambda kit, _: Case(
        [chained(kit, "fresh")], {"ca_path": kit["ca"], "fail_on_missing": True, "min_age": "1h"}
    ),
    "max_age": lambda kit, _: Case(
        [chained(kit, "old")], {"ca_path": kit["ca"], "fail_on_missing": True, "max_age": "90d"}
    ),
}


def test_every_lookup_option_has_a_case() -> None:
    # rate_limit_warning needs a registry that sends its headroom: test_rate_limit_warnings_agree below.
    assert set(CASES) | {"rate_limit_warning"} == set(names(face=LOOKUP))


def module_process(args: dict[str, t.Any], tmp_path: Path) -> dict[str, t.Any]:
    """The module run as Ansible runs it on a host: its own Python process, its arguments in a file."""
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = {**ansible_env(), "PYTHONPATH": str(COLLECTIONS)}
    command = [sys.executable, "-m", "ansible_collections.tagscope.registry.plugins.modules.image_tags", str(path)]
    process = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    return t.cast("dict[str, t.Any]", json.loads(process.stdout))


def faces(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, images: list[str], options: dict[str, t.Any]
) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """What the module and the lookup (loaded through lookup_loader, in this process) return for the same inputs:
    ``{"tags" or "msg", "warnings"}`` each."""
    module = module_process({"images": images, **options}, tmp_path)
    # A module process returns its warnings as summaries of events (ansible-core 2.19); their text is what shows.
    warnings = [w["event"]["msg"] if isinstance(w, dict) else w for w in module.get("warnings", [])]
    from_module: dict[str, t.Any] = {"warnings": warnings}
    if module.get("failed"):
        from_module["msg"] = module["msg"]
    else:
        from_module["tags"] = [tag for image in module["images"] for tag in image["tags"]]
    lookup = lookup_loader.get("tagscope.registry.image_tags")
    # The lookup keeps challenges, tokens and connections for the process: start afresh, as the module does.
    for kept in (SHARED_TOKENS.challenges, SHARED_TOKENS.tokens, SHARED_TOKENS.alone):
        kept.clear()
    shared_session().close()
    capfd.readouterr()
    from_lookup: dict[str, t.Any] = {}
    try:
        from_lookup["tags"] = lookup.run(images, variables={}, **options)
    except AnsibleLookupError as exc:
        from_lookup["msg"] = str(exc)
    printed = " ".join(capfd.readouterr().err.split())
    from_lookup["warnings"] = re.findall(r"registry rate limit running low: .*? window", printed)
    return from_module, from_lookup


@pytest.mark.parametrize("option", list(CASES))
def test_module_and_lookup_agree(
    kit: dict[str, t.Any], tmp_path: Path, capfd: pytest.CaptureFixture[str], option: str
) -> None:
    case = CASES[option](kit, tmp_path)
    images = [f"{kit['token_registry']}/{image}" for image in case.images]
    if option == "auth_registry":
        case.options["auth_registry"] = kit["token_registry"]
    from_module, from_lookup = faces(capfd, tmp_path, images, case.options)
    assert from_module == from_lookup
    assert "Wr0ng-faces-canary" not in json.dumps(from_module)


def test_rate_limit_warnings_agree(faults: t.Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from tests.unit.plugins.module_utils.test_platforms import Registry  # noqa: PLC0415 - the scripted registry

    faults.handler = Registry(remaining=3)
    images = [f"{faults.host}/org/app:index"]
    # The lookup reads manifests, and so rate limits, only when it gates.
    options = {"ca_path": faults.ca, "fail_on_missing": True, "rate_limit_warning": 5}
    from_module, from_lookup = faces(capfd, tmp_path, images, options)
    warning = f"registry rate limit running low: {faults.host}: 3 of 100 pulls left in its 21600 s window"
    assert from_module == from_lookup
    assert from_module["warnings"] == [warning]
    quiet_module, quiet_lookup = faces(capfd, tmp_path, images, {**options, "rate_limit_warning": 3})
    assert quiet_module == quiet_lookup
    assert quiet_module["warnings"] == []


def test_a_budget_stop_agrees(faults: t.Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from tests.unit.plugins.module_utils.test_platforms import Registry  # noqa: PLC0415 - the scripted registry

    faults.handler = Registry(remaining=3)
    images = [f"{faults.host}/org/app:index", f"{faults.host}/org/app:list"]
    options = {"ca_path": faults.ca, "fail_on_missing": True, "min_remaining": 5, "rate_limit_warning": 0}
    from_module, from_lookup = faces(capfd, tmp_path, images, options)
    assert from_module == from_lookup
    assert from_module["msg"].startswith(f"{faults.host} says 3 of 100 pulls remain in its 21600 s window, fewer ")
