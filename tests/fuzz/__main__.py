"""``python -m tests.fuzz``: run generated cases, or replay one.

.venv/bin/python -m tests.fuzz --cases 10000          # cases 0..9999 of seed 1
.venv/bin/python -m tests.fuzz --seed 1234 --case 77  # one case, with what was asked and answered
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _expose_collection() -> None:
    """``ansible_collections.tagscope.registry`` as this checkout, as tests/conftest.py does for pytest."""
    collections = REPO / ".build" / "collections"
    link = collections / "ansible_collections" / "tagscope" / "registry"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    sys.path.insert(0, str(collections))
    from ansible.plugins.loader import init_plugin_loader  # noqa: PLC0415 - after the path is set

    init_plugin_loader([str(collections)])


_expose_collection()

from .generator import make_case  # noqa: E402
from .runner import Outcome, run_cases  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--case", type=int, help="replay this one case, verbosely")
    parser.add_argument("--cases", type=int, default=200, help="how many cases to run (from --start)")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--max-rss-mib", type=int, help="fail when the peak RSS exceeds this")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per case")
    args = parser.parse_args(argv)

    if args.case is not None:
        print(make_case(args.seed, args.case).describe())

        def show(outcome: Outcome) -> None:
            print(json.dumps(outcome.result, indent=2, default=repr, ensure_ascii=False)[:4000])
            print(f"wall {outcome.wall:.2f} s (bound {outcome.bound:.2f} s), {outcome.attempts} attempts")
            for url in outcome.recorded:
                print(f"recorded (not connected): {url[:200]}")
            print(outcome.report() if outcome.failed else "ok")

        summary = run_cases(args.seed, [args.case], on_outcome=show)
        return 1 if summary.failures else 0

    def progress(outcome: Outcome) -> None:
        if outcome.failed:
            print(outcome.report(), flush=True)
        elif args.verbose:
            print(f"{outcome.case.index}: {outcome.verdict()} {outcome.wall:.2f} s", flush=True)
        if (outcome.case.index - args.start + 1) % 1000 == 0:
            print(f"... {outcome.case.index - args.start + 1} cases", file=sys.stderr, flush=True)

    summary = run_cases(args.seed, range(args.start, args.start + args.cases), on_outcome=progress)
    print(summary.text())
    failed = bool(summary.failures)
    if args.max_rss_mib is not None and summary.peak_kib > args.max_rss_mib * 1024:
        print(f"peak RSS {summary.peak_kib / 1024:.0f} MiB is beyond the bound of {args.max_rss_mib} MiB")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
