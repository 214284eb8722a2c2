"""``python -m tests.kit up|down|status [--dir DIR]``: the test kit for humans."""

from __future__ import annotations

import argparse
import json
import sys
import time

from .kit import Kit
from .supply_chain import SIGNATURES_REPO as SIGNED_REPO

DEFAULT_DIR = ".kit"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.kit", description=__doc__)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--dir", default=DEFAULT_DIR, help="state directory (default: %(default)s)")
    parser.add_argument("--no-seed", action="store_true", help="start without pushing seed data")
    parser.add_argument(
        "--delay",
        type=float,
        default=0.0,
        help="seconds added to every round trip to the token registry and its token service (a far registry)",
    )
    args = parser.parse_args(argv)
    kit = Kit(args.dir)
    if args.action == "up":
        started = time.monotonic()
        try:
            state = kit.up(seed=not args.no_seed, delay=args.delay)
        except RuntimeError as exc:
            print(f"kit: {exc}", file=sys.stderr)
            return 1
        print(f"kit up in {time.monotonic() - started:.1f} s; variables in {kit.dir / 'vars.json'}")
        for key in ("token_registry", "basic_registry", "open_registry", "paging_registry", "realm", "ca"):
            print(f"  {key:16} {state[key]}")
        if "supply_chain" in state:
            print(f"  {'cosign key':16} {state['supply_chain']['public_key']} (signed images: {SIGNED_REPO})")
    elif args.action == "down":
        kit.down()
        print("kit down")
    else:
        if not kit.state_file.exists():
            print("kit is not running")
            return 1
        print(json.dumps({k: v for k, v in kit.state.items() if k != "users"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
