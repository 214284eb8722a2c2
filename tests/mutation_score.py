"""Print the mutation score of the last ``mutmut run`` (make mutation): detected = killed or timed out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main() -> int:
    subprocess.run([str(Path(sys.executable).parent / "mutmut"), "export-cicd-stats"], check=True, capture_output=True)
    stats = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text())
    detected = stats["killed"] + stats["timeout"]
    checked = detected + stats["survived"] + stats["no_tests"] + stats["suspicious"] + stats["segfault"]
    if not checked:
        print("no mutant was checked")
        return 1
    print(
        f"mutation score: {detected}/{checked} = {100 * detected / checked:.1f}% detected "
        f"({stats['killed']} killed, {stats['timeout']} timed out, {stats['survived']} survived, "
        f"{stats['no_tests']} without tests); {stats['total'] - checked} not checked in this run"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
