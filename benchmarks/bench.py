"""Request counts and wall times of tagscope.registry's core against the test kit.

    .venv/bin/python -m benchmarks.bench [--runs 5]

Starts the kit (real Distribution registry, token server, paging front on 127.0.0.1), runs each case
several times, prints the median wall time and the requests sent, and stops the kit. With skopeo on
PATH (Debian package skopeo) it also times `skopeo list-tags` on the same repositories. Figures, not
assertions: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / ".build" / "collections"
sys.path.insert(0, str(COLLECTIONS))
link = COLLECTIONS / "ansible_collections" / "tagscope" / "registry"
link.parent.mkdir(parents=True, exist_ok=True)
if not link.exists():
    link.symlink_to(REPO, target_is_directory=True)

from ansible_collections.tagscope.registry.plugins.module_utils._registry.client import (  # noqa: E402
    ClientOptions,
    RegistryClient,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import Identity  # noqa: E402
from ansible_collections.tagscope.registry.plugins.module_utils._registry.reference import ImageReference  # noqa: E402
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import make_session  # noqa: E402
from tests.kit.kit import Kit  # noqa: E402


def measure(runs: int, action: t.Callable[[], int]) -> tuple[float, int]:
    times, sent = [], 0
    for _run in range(runs):
        started = time.perf_counter()
        sent = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), sent


def client(state: dict[str, t.Any], **options: t.Any) -> RegistryClient:
    base = {"ca_path": state["ca"], "environ": {"HOME": "/nonexistent"}}
    return RegistryClient(make_session(), ClientOptions(**{**base, **options}))


def list_case(state: dict[str, t.Any], image: str, **options: t.Any) -> t.Callable[[], int]:
    def run() -> int:
        registry = client(state, **options)
        tags = registry.list_tags(ImageReference.parse(image))
        assert tags, image
        return registry.transport.requests_sent

    return run


def existence_case(state: dict[str, t.Any], count: int, *, listing: bool) -> t.Callable[[], int]:
    creds = Identity(username="alice", password=state["users"]["alice"], source="options")
    tags = [tag for tag in state["repos"]["private/app"] if tag != "multi"][:count]

    def run() -> int:
        registry = client(state, credentials=creds)
        for tag in tags:
            ref = ImageReference.parse(f"{state['token_registry']}/private/app:{tag}")
            assert registry.manifest_digest(ref, tag)
        if listing:
            registry.list_tags(ImageReference.parse(f"{state['token_registry']}/private/app"))
        return registry.transport.requests_sent

    return run


def skopeo_case(state: dict[str, t.Any], image: str, certs: str) -> t.Callable[[], int]:
    def run() -> int:
        subprocess.run(
            ["skopeo", "list-tags", "--cert-dir", certs, f"docker://{image}"],
            check=True,
            capture_output=True,
        )
        return -1

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="tagscope-bench-")
    kit = Kit(directory)
    print("starting the kit ...", file=sys.stderr)
    state = kit.up()
    try:
        many = state["repos"]["public/many"]["count"]
        cases = [
            (
                f"list {many} tags, registry returns one page (Distribution 2.8)",
                list_case(state, f"{state['open_registry']}/public/many"),
            ),
            (f"list {many} tags, token auth, one page", list_case(state, f"{state['token_registry']}/public/many")),
            (
                f"list {many} tags, paged, registry's page size (100)",
                list_case(state, f"{state['paging_registry']}/public/many"),
            ),
            (
                f"list {many} tags, paged, page_size=1000",
                list_case(state, f"{state['paging_registry']}/public/many", page_size=1000),
            ),
            ("10 tags exist? (HEAD each, one token)", existence_case(state, 10, listing=False)),
            ("10 tags exist? + list the repository", existence_case(state, 10, listing=True)),
        ]
        if shutil.which("skopeo"):
            certs = Path(directory) / "skopeo-certs"
            certs.mkdir()
            shutil.copy(state["ca"], certs / "ca.crt")
            cases.append(
                (
                    f"skopeo list-tags, {many} tags, one page",
                    skopeo_case(state, f"{state['open_registry']}/public/many", str(certs)),
                )
            )
        print(f"{'case':60} {'median s':>9} {'requests':>9}")
        for name, action in cases:
            seconds, sent = measure(args.runs, action)
            print(f"{name:60} {seconds:9.3f} {sent if sent >= 0 else '-':>9}")
    finally:
        kit.down()
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
