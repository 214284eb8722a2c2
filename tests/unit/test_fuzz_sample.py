"""A fixed sample of the fuzzing harness (tests/fuzz) in every unit run: 500 generated cases of a hostile registry
and token service, through the module's own work, against real servers on 127.0.0.1.

``make fuzz`` runs 10,000; a failing case prints the one-line command that replays it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.runner import run_cases

SEED = 20261203
CASES = 500

# Under mutation testing every mutant would run the whole sample: half a minute each, for thousands of mutants.
pytestmark = pytest.mark.skipif(
    Path(__file__).resolve().parents[2].name == "mutants", reason="too slow to run once per mutant"
)


def test_a_hostile_registry_gets_results_or_clean_errors_and_nothing_else() -> None:
    summary = run_cases(SEED, range(CASES))
    assert summary.cases == CASES
    assert not summary.failures, "\n".join(outcome.report() for outcome in summary.failures[:10])
    # The sample reaches both ends and the refusals: a harness that stopped generating faults (or results) would
    # pass the checks above while testing nothing.
    assert summary.verdicts["ok"] >= CASES // 5, summary.text()
    assert summary.verdicts["error"] >= CASES // 5, summary.text()
    assert summary.refusals >= 5, summary.text()
    assert summary.exact >= 20, summary.text()
