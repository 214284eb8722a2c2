"""On localhost the action plugin runs the query in the controller; elsewhere the module runs in its own process.
Both must give the same result, the same failures, the same check mode and the same secrecy."""

from __future__ import annotations

import typing as t

import pytest

from .conftest import run_module


def private(kit: dict[str, t.Any], suffix: str = "") -> str:
    return f"{kit['token_registry']}/private/app{suffix}"


CANARY = "In-controller-canary-6d2f"

SCENARIOS: dict[str, t.Callable[[dict[str, t.Any]], dict[str, t.Any]]] = {
    "list and check": lambda kit: {
        "images": [private(kit, ":1.4.1"), f"{kit['token_registry']}/public/hello"],
        "username": "alice",
        "password": kit["users"]["alice"],
        "ca_path": kit["ca"],
        "constraint": ">=1,<2",
    },
    "missing tag": lambda kit: {
        "images": [private(kit, ":1.4.2")],
        "username": "alice",
        "password": kit["users"]["alice"],
        "ca_path": kit["ca"],
        "fail_on_missing": True,
    },
    "wrong password": lambda kit: {
        "images": [private(kit)],
        "username": "alice",
        "password": CANARY,
        "ca_path": kit["ca"],
    },
    "unknown option": lambda kit: {"images": [private(kit)], "contraint": ">=1", "password": CANARY},
    "bad value": lambda kit: {"images": [private(kit)], "wait_interval": 0, "ca_path": kit["ca"]},
    "bad reference": lambda kit: {"images": ["ghcr.io/Org/app"]},
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_same_result_in_the_controller_and_in_a_module_process(
    kit: dict[str, t.Any], scenario: str, check: bool
) -> None:
    args = SCENARIOS[scenario](kit)
    options = ("--check",) if check else ()
    here = run_module(args, options=(*options, "-vvvv"))
    there = run_module(args, in_controller=False, options=(*options, "-vvvv"))
    assert (here.rc, here.result) == (there.rc, there.result)
    assert here.result, here.output
    for run in (here, there):
        assert CANARY not in run.output
        assert kit["users"]["alice"] not in run.output
    # The module process really ran for one and not for the other.
    assert "AnsiballZ_image_tags.py" in there.output
    assert "AnsiballZ_image_tags.py" not in here.output


def test_rate_limit_headroom_is_reported_and_warned_once_either_way(faults: t.Any) -> None:
    from tests.unit.plugins.module_utils.test_platforms import Registry  # noqa: PLC0415 - the scripted registry

    faults.handler = Registry(remaining=3)
    args = {"images": [f"{faults.host}/org/app:index", f"{faults.host}/org/app:list"], "ca_path": faults.ca}
    here = run_module(args)
    there = run_module(args, in_controller=False)
    assert here.rc == there.rc == 0, here.output + there.output
    assert here.result == there.result
    assert here.result["rate_limits"] == {faults.host: {"limit": 100, "remaining": 3, "window": 21600}}
    warning = f"registry rate limit running low: {faults.host}: 3 of 100 pulls left in its 21600 s window"
    for run in (here, there):
        # ansible-core before 2.19 wraps a warning at the terminal's width (79 columns without one).
        assert " ".join(run.output.split()).count(warning) == 1, run.output
    # No warning above the threshold.
    quiet = run_module({**args, "rate_limit_warning": 3})
    assert "rate limit running low" not in quiet.output
