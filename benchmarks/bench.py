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
(``signed_by``). These two run in turn (one, the other, one, ...), so that a machine whose speed drifts moves both
alike, and their ratio is the median of the pairs' ratios; the target is that the second costs at most twice the
first on the far registry.

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


Measured = tuple[float, int, t.Optional[int]]  # median seconds, requests in one run, connections opened


def invocation(state: dict[str, t.Any], directory: Path, case: Case) -> tuple[list[str], dict[str, str]]:
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
        str(playbook(directory, case)),
    ]
    return command, env


def run_once(state: dict[str, t.Any], name: str, command: list[str], env: dict[str, str]) -> Measured:
    """One run: its wall time, the requests the registry and its token service saw, the connections opened."""
    before = log_lines(state)
    connected = connections(state)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    after = connections(state)
    opened = None if after is None or connected is None else after - connected
    return elapsed, log_lines(state) - before, opened


def summary(runs: list[Measured]) -> Measured:
    """The median time of the runs after the first (which warms caches), and the last run's counts."""
    return statistics.median(run[0] for run in runs[1:]), runs[-1][1], runs[-1][2]


def run_case(state: dict[str, t.Any], directory: Path, case: Case, runs: int) -> Measured:
    command, env = invocation(state, directory, case)
    return summary([run_once(state, case.name, command, env) for _run in range(runs + 1)])


def run_pair(
    state: dict[str, t.Any], directory: Path, first: Case, second: Case, runs: int
) -> tuple[Measured, Measured, float]:
    """The two cases in turn (first, second, first, ...), so that a machine whose speed drifts moves both alike; with
    the median of the pairs' ratios, first's time over second's."""
    first_call, second_call = invocation(state, directory, first), invocation(state, directory, second)
    pairs = [
        (run_once(state, first.name, *first_call), run_once(state, second.name, *second_call))
        for _run in range(runs + 1)
    ]
    ratio = statistics.median(a[0] / b[0] for a, b in pairs[1:])
    return summary([a for a, _b in pairs]), summary([b for _a, b in pairs]), ratio


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
    results: dict[str, dict[str, Measured]] = {}
    # Label -> the signed check's time over the existence check's, run in turn.
    ratios: dict[str, float] = {}
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
            existence, signature, *others = signed_cases(signed, cosign)
            for case in cases(args.images, skopeo):
                print(f"  {case.name} ...", file=sys.stderr)
                results.setdefault(case.name, {})[label] = run_case(state, directory, case, args.runs)
            print(f"  {existence.name} and {signature.name}, in turn ...", file=sys.stderr)
            checked, plain, ratios[label] = run_pair(state, directory, signature, existence, args.runs)
            results.setdefault(existence.name, {})[label] = plain
            results.setdefault(signature.name, {})[label] = checked
            for case in others:
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
    print(signed_summary(results, ratios, args.images))
    if not cosign:
        print(NO_COSIGN)
    return 0


def signed_summary(results: dict[str, dict[str, Measured]], ratios: dict[str, float], images: int) -> str:
    """The signed check against the existence check, near and far: time (run in turn) and requests per image."""
    existence = results[f"{images} signed images, existence only (one task)"]
    signed = results[f"{images} signed images, signed_by (one task)"]
    lines = []
    for label, ratio in ratios.items():
        extra = (signed[label][1] - existence[label][1]) / images
        lines.append(
            f"{label}: signed_by takes {ratio:.2f}x the time of the existence check (the median ratio of runs in "
            f"turn; target at most 2x), {signed[label][1]} requests against {existence[label][1]}, {extra:g} more "
            "per image"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
