"""Print the mutation score of the last ``mutmut run`` (make mutation), per module and in all.

Detected = killed or timed out (an infinite loop is noticed too). Mutants a run did not reach are left out and
counted separately, so a run over one module (``MUTANTS=...``) prints that module's score.
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

_LINE = re.compile(r"\s*plugins\.module_utils\._registry\.(\w+)\.\S+: (.+)$")


def main() -> int:
    mutmut = str(Path(sys.executable).parent / "mutmut")
    listing = subprocess.run([mutmut, "results", "--all", "true"], check=True, capture_output=True, text=True).stdout
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in listing.splitlines():
        match = _LINE.match(line)
        if match:
            counts[match.group(1)][match.group(2).strip()] += 1
    total: collections.Counter[str] = collections.Counter()
    rows = []
    for module, seen in sorted(counts.items()):
        total.update(seen)
        checked = sum(seen.values()) - seen["not checked"]
        if checked:
            rows.append((f"{module}.py", _score(seen)))
    if not rows:
        print("no mutant was checked")
        return 1
    width = max(len(row[0]) for row in rows)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")
    print(f"{'core':<{width}}  {_score(total)}")
    return 0


def _score(seen: collections.Counter[str]) -> str:
    detected = seen["killed"] + seen["timeout"]
    checked = sum(seen.values()) - seen["not checked"]
    left = sum(count for status, count in seen.items() if status not in ("killed", "timeout", "not checked"))
    text = f"{detected}/{checked} = {100 * detected / checked:.1f}% detected ({seen['timeout']} by timeout, {left} not)"
    if seen["not checked"]:
        text += f"; {seen['not checked']} not checked in this run"
    return text


if __name__ == "__main__":
    sys.exit(main())
