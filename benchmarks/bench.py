"""Request counts and wall times, tagscope.registry beside skopeo, on a near and a far registry.

Starts two test kits: a near one (loopback) and a far one, whose token registry and token service sit behind a
proxy that adds ``--delay`` seconds (default 0.05) to every round trip, like a registry on another continent.
Each case is a whole ``ansible-playbook`` run (what a user waits for), repeated ``--runs`` times; the table shows
the median wall time and the requests the registry and its token service received in one run (from their logs);
on the far registry also the connections opened to them (from the proxy's log): each costs a TCP and a TLS
handshake, two round trips or more.

The supply-chain gate: each kit also gets ``--images`` images signed by the kit key the way ``cosign sign --key``
signs them (one per repository ``signed/rNN``, tag ``1.0``, a ``sha256-<hex>.sig`` tag beside it), pushed on demand
(``tests.kit.supply_chain.seed_signed_fleet``) rather than in the kit's default seed, which stays fast. One task
checks that they exist (``list_tags: false``: a HEAD each), another that they are signed by the kit key
(``signed_by``); the target is that the second costs at most twice the first on the far registry.

    .venv/bin/python -m benchmarks.bench [--runs 5] [--delay 0.05] [--images 20]

skopeo (Debian package ``skopeo``) is run where installed; ``make bench`` installs it. ``cosign verify --key``
looped over the signed images is run where ``cosign`` is installed (it has no Debian 12 package and is not on
PyPI); its row is left out otherwise, saying so.
"""

from __future__ import annotations

import argparse
import json
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
BIN = Path(sys.executable).parent

sys.path.insert(0, str(REPO))
from tests.kit.kit import Kit  # noqa: E402
from tests.kit.supply_chain import seed_signed_fleet  # noqa: E402

NO_COSIGN = "cosign is not installed (no Debian 12 package, not on PyPI): the cosign verify --key row is left out"


class Case(t.NamedTuple):
    name: str
    tasks: list[dict[str, t.Any]]


class Signed(t.NamedTuple):
    """The signed images of one kit and the public key that verifies them."""

    references: list[str]
    public_key: str


def seed_signed(state: dict[str, t.Any], images: int) -> Signed:
    """``images`` images signed by the kit key as ``cosign sign --key`` signs them (``signed/rNN:1.0``), pushed
    straight to the kit's token registry (past the latency proxy) by the kit, on demand."""
    fleet = seed_signed_fleet(state, count=images)
    return Signed(list(fleet), state["supply_chain"]["public_key"])


def signed_cases(signed: Signed, cosign: bool) -> list[Case]:
    images = len(signed.references)
    listed = [
        Case(
            f"{images} signed images, existence only (one task)",
            [{"tagscope.registry.image_tags": {"images": signed.references, "list_tags": False}}],
        ),
        Case(
            f"{images} signed images, signed_by (one task)",
            [
                {
                    "tagscope.registry.image_tags": {
                        "images": signed.references,
                        "list_tags": False,
                        "signed_by": [signed.public_key],
                        "fail_on_missing": True,
                    }
                }
            ],
        ),
    ]
    if cosign:
        # Not run where this was written (no cosign there). The kit's signatures are in no transparency log; Go
        # reads the kit's CA from SSL_CERT_FILE.
        listed.append(
            Case(
                f"cosign verify --key looped over {images} images",
                [
                    {
                        "ansible.builtin.command": {
                            "argv": [
                                "cosign",
                                "verify",
                                "--key",
                                signed.public_key,
                                "--insecure-ignore-tlog=true",
                                "{{ item }}",
                            ]
                        },
                        "environment": {"SSL_CERT_FILE": "{{ kit_ca }}"},
                        "loop": signed.references,
                        "changed_when": False,
                    }
                ],
            )
        )
    return listed


def cases(images: int, skopeo: bool) -> list[Case]:
    names = [f"{{{{ kit_token_registry }}}}/public/r{n:02d}" for n in range(1, images + 1)]
    listed = [
        Case("1 image, one module task", [{"tagscope.registry.image_tags": {"images": names[:1]}}]),
        Case(f"{images} images, one module task", [{"tagscope.registry.image_tags": {"images": names}}]),
        Case(
            f"{images} lookup calls (a loop)",
            [{"ansible.builtin.debug": {"msg": "{{ query('tagscope.registry.image_tags', item) }}"}, "loop": names}],
        ),
        Case(
            f"module looped over {images} images",
            [{"tagscope.registry.image_tags": {"images": ["{{ item }}"]}, "loop": names}],
        ),
    ]
    if skopeo:
        listed.append(
            Case(
                f"skopeo list-tags looped over {images} images",
                [
                    {
                        "ansible.builtin.command": {
                            "argv": ["skopeo", "list-tags", "--cert-dir", "{{ skopeo_certs }}", "docker://{{ item }}"]
                        },
                        "loop": names,
                        "changed_when": False,
                    }
                ],
            )
        )
    return listed


def playbook(directory: Path, case: Case) -> Path:
    path = directory / (case.name.replace(" ", "_").replace(",", "") + ".yml")
    play = {
        "name": case.name,
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": [{"name": case.name, **task} for task in case.tasks],
    }
    path.write_text(json.dumps([play]))
    return path


def log_lines(state: dict[str, t.Any]) -> int:
    directory = Path(state["dir"])
    registry = (directory / "token_registry.log").read_text().splitlines()
    requests = sum(1 for line in registry if line.startswith("127.0.0.1 - - ["))
    return requests + len((directory / "token-server.log").read_text().splitlines())


def connections(state: dict[str, t.Any]) -> int | None:
    log = Path(state["dir"]) / "delay.log"
    return sum(1 for line in log.read_text().splitlines() if line.startswith("connection ")) if log.exists() else None


def run_case(state: dict[str, t.Any], directory: Path, case: Case, runs: int) -> tuple[float, int, int | None]:
    path = playbook(directory, case)
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_NOCOLOR": "1",
        "TAGSCOPE_REGISTRY_CA_PATH": state["ca"],
        "HOME": str(directory),
    }
    command = [
        str(BIN / "ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"@{Path(state['dir']) / 'vars.json'}",
        "-e",
        f"skopeo_certs={directory / 'certs'}",
        str(path),
    ]
    times, requests, opened = [], 0, None
    for _run in range(runs + 1):  # the first run warms caches and is not counted
        before = log_lines(state)
        connected = connections(state)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{case.name} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        requests = log_lines(state) - before
        after = connections(state)
        opened = None if after is None or connected is None else after - connected
        times.append(elapsed)
    return statistics.median(times[1:]), requests, opened


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--images", type=int, default=20, choices=range(1, 21), metavar="1..20")
    args = parser.parse_args()
    link = COLLECTIONS / "ansible_collections" / "tagscope" / "registry"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(REPO, target_is_directory=True)
    skopeo = shutil.which("skopeo") is not None
    if not skopeo:
        print("skopeo is not installed (apt-get install skopeo): its rows are left out", file=sys.stderr)
    cosign = shutil.which("cosign") is not None
    if not cosign:
        print(NO_COSIGN, file=sys.stderr)
    results: dict[str, dict[str, tuple[float, int, int | None]]] = {}
    for label, delay in (("near", 0.0), (f"far ({args.delay * 1000:g} ms)", args.delay)):
        directory = Path(tempfile.mkdtemp(prefix="tagscope-bench-"))
        kit = Kit(directory / "kit")
        print(f"starting the {label} kit ...", file=sys.stderr)
        state = kit.up(delay=delay)
        try:
            (directory / "certs").mkdir()
            shutil.copy(state["ca"], directory / "certs" / "ca.crt")
            print(f"  pushing {args.images} signed images ...", file=sys.stderr)
            signed = seed_signed(state, args.images)
            for case in cases(args.images, skopeo) + signed_cases(signed, cosign):
                print(f"  {case.name} ...", file=sys.stderr)
                results.setdefault(case.name, {})[label] = run_case(state, directory, case, args.runs)
        finally:
            kit.down()
            shutil.rmtree(directory, ignore_errors=True)
    labels = list(next(iter(results.values())))
    near, far = labels
    print(f"| case | {near}: median s | requests | {far}: median s | requests | connections |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, by_label in results.items():
        (near_time, near_requests, _near_opened), (far_time, far_requests, opened) = by_label[near], by_label[far]
        print(f"| {name} | {near_time:.2f} | {near_requests} | {far_time:.2f} | {far_requests} | {opened} |")
    print(f"\n{args.runs} runs each after one warm-up, medians; whole ansible-playbook runs on this machine.")
    print(signed_summary(results, args.images, near, far))
    if not cosign:
        print(NO_COSIGN)
    return 0


def signed_summary(
    results: dict[str, dict[str, tuple[float, int, int | None]]], images: int, near: str, far: str
) -> str:
    """The signed check against the existence check: time ratio and requests per image, near and far."""
    existence = results[f"{images} signed images, existence only (one task)"]
    signed = results[f"{images} signed images, signed_by (one task)"]
    lines = []
    for label in (near, far):
        (base_time, base_requests, _base_opened), (time_signed, requests_signed, _opened) = (
            existence[label],
            signed[label],
        )
        lines.append(
            f"{label}: signed_by takes {time_signed / base_time:.2f}x the existence check "
            f"({time_signed:.2f} s against {base_time:.2f} s; target at most 2x), "
            f"{(requests_signed - base_requests) / images:g} more requests per image "
            f"({requests_signed} against {base_requests})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
