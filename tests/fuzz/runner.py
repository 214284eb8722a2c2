"""Runs cases through the module's own work (``_run.image_tags``) against the hostile servers, and judges them.

What every case must show:
- a result, or ``failed`` with a ``msg`` that names the registry and says what was wrong, in at most 1,000
  characters per image; never another exception;
- no secret (password, tokens given or issued) anywhere in what comes back;
- no request to an address the realm and redirect rules refuse: the session connects only to the servers' own
  ports on 127.0.0.1; every other attempt is recorded and refused by a stand-in adapter, and an attempt at a
  link-local, unspecified or private address is a violation (none is ever really contacted);
- no ``Authorization`` header at the server a redirect leads to (another origin);
- a wall time within the bound the options set: per attempt the client made (as the servers saw them), the
  deadline of an answer (twice the timeout) and the retry wait, plus a fixed slack and time to parse what the
  servers sent;
- for a case without faults, exactly what the registry holds.
The peak RSS of the process is measured after every case; the caller states and checks the bound.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import resource
import socket
import ssl
import tempfile
import threading
import time
import traceback
import typing as t
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.tagscope.registry.plugins.module_utils._argspec import module_argument_spec
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import make_session
from ansible_collections.tagscope.registry.plugins.module_utils._run import image_tags
from tests.kit.faults import RecordingAdapter
from tests.kit.pki import make_pki

from .generator import (
    BAD_OPTION_TOKENS,
    IDENTITY_TOKEN,
    OPTION_TOKEN,
    PASSWORD,
    PLATFORM_DIGEST,
    SECRET_MARKERS,
    USERNAME,
    Case,
    Env,
    Registry,
    make_case,
    manifest_digest,
)
from .server import HostileServer

# Small, so that a case is quick, and yet well above the servers' drip interval (0.15 s): a drip is never silent
# for a whole timeout.
TIMEOUT = 0.5
RETRY_MAX_WAIT = 0.25
# Thread scheduling, TLS handshakes and parsing on a loaded 2-core machine: a fixed slack, and time to parse what
# the servers sent (a 16 MiB tag page of 3 million strings takes seconds).
SLACK = 2.0
SLACK_PER_MIB = 0.5
# No message may run longer than this per image (docs/faults.md: a message is read by a person).
MESSAGE_LIMIT = 1000
# A client still busy after this long is woken by closing its connections (the servers give up at 30 s anyway).
WATCHDOG = 40.0


@dataclass
class Outcome:
    case: Case
    result: dict[str, t.Any] | None
    unexpected: str | None
    wall: float
    bound: float
    attempts: int
    recorded: list[str]
    rss_kib: int
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def verdict(self) -> str:
        """One word for the summary: ok (a result), the first word of the error, or 'bad'."""
        if self.problems:
            return "bad"
        if self.result and self.result.get("failed"):
            return "error"
        return "ok"

    def replay(self) -> str:
        return f".venv/bin/python -m tests.fuzz --seed {self.case.seed} --case {self.case.index}"

    def report(self) -> str:
        lines = [
            f"FAILED {self.case.describe()}",
            *(f"  - {problem}" for problem in self.problems),
            f"  wall {self.wall:.2f} s, bound {self.bound:.2f} s, {self.attempts} attempts",
            f"  replay: {self.replay()}",
        ]
        return "\n".join(lines)


class Harness:
    """The servers of a run (registry, token service, another origin; over TLS and plain HTTP), started and
    stopped by ``with``."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="tagscope-fuzz-")
        root = Path(self._dir.name)
        self.pki = make_pki(root / "pki")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.pki["server_cert"], self.pki["server_key"])
        self.servers = {
            f"{role}-{kind}": HostileServer(f"{role}-{kind}", tls=context if kind == "tls" else None)
            for role in ("registry", "auth", "other")
            for kind in ("tls", "plain")
        }
        self.auth_file = root / "auth.json"
        # The key signed_by trusts; the registry signs its cosign payloads with it.
        self._signing_key = ec.generate_private_key(ec.SECP256R1())
        self.public_pem = (
            self._signing_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        self.env: Env | None = None
        self._hung = threading.Event()
        self.peak_kib = 0
        self.peak_case: tuple[int, int] | None = None

    def __enter__(self) -> Harness:
        for server in self.servers.values():
            server.start()
        s = self.servers
        self.env = Env(
            registry_tls=s["registry-tls"].host,
            auth_tls=s["auth-tls"].host,
            other_tls=s["other-tls"].host,
            registry_plain=s["registry-plain"].host,
            auth_plain=s["auth-plain"].host,
            other_plain=s["other-plain"].host,
            sign=self._sign,
        )
        entry = {"auth": base64.b64encode(f"{USERNAME}:".encode()).decode(), "identitytoken": IDENTITY_TOKEN}
        self.auth_file.write_text(json.dumps({"auths": {self.env.registry_tls: entry, self.env.registry_plain: entry}}))
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers.values():
            server.stop()
        self._dir.cleanup()

    def run(self, case: Case) -> Outcome:
        env = t.cast(Env, self.env)
        registry = Registry(case, env)
        for server in self.servers.values():
            server.reset_log()
            server.script = registry
            server.on_connect = lambda name, index: (
                case.on_connect if name.startswith("registry") and index == 0 else None
            )
        session, recorder = self._session()
        params = self.params(case)
        self._hung.clear()
        watchdog = threading.Timer(WATCHDOG, self._abort)
        watchdog.daemon = True
        result: dict[str, t.Any] | None = None
        unexpected = None
        started = time.monotonic()
        watchdog.start()
        try:
            result = image_tags(params, environ={"HOME": "/nonexistent"}, session=session)
        except KeyboardInterrupt:
            raise
        except BaseException:  # anything but a result is what the harness is looking for, SystemExit included
            unexpected = traceback.format_exc()
        finally:
            wall = time.monotonic() - started
            watchdog.cancel()
            session.close()
        attempts = len(recorder.attempts) + sum(server.attempts() for server in self.servers.values())
        received = sum(server.sent for server in self.servers.values())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if rss > self.peak_kib:
            self.peak_kib, self.peak_case = rss, (case.seed, case.index)
        outcome = Outcome(
            case=case,
            result=result,
            unexpected=unexpected,
            wall=wall,
            bound=attempts * (2 * TIMEOUT + RETRY_MAX_WAIT) + SLACK + SLACK_PER_MIB * received / (1 << 20),
            attempts=attempts,
            recorded=list(recorder.attempts),
            rss_kib=rss,
        )
        outcome.problems = judge(outcome, self.servers, hung=self._hung.is_set())
        return outcome

    def _sign(self, payload: bytes) -> str:
        return base64.b64encode(self._signing_key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()

    def _abort(self) -> None:
        """The client hangs: wake it by closing every connection it holds to the servers."""
        self._hung.set()
        for server in self.servers.values():
            server.drop_all()

    def _session(self) -> tuple[requests.Session, RecordingAdapter]:
        session = make_session()
        real = session.get_adapter("https://")
        recorder = RecordingAdapter()
        session.mount("https://", recorder)
        session.mount("http://", recorder)
        # Only the servers' own ports, each with its trailing slash: "https://127.0.0.1:443@elsewhere/" must not
        # match a prefix that leads to a real connection.
        for server in self.servers.values():
            for scheme in ("https", "http"):
                session.mount(f"{scheme}://{server.host}/", real)
        return session, recorder

    def params(self, case: Case) -> dict[str, t.Any]:
        env = t.cast(Env, self.env)
        params: dict[str, t.Any] = {name: spec.get("default") for name, spec in module_argument_spec().items()}
        host = env.registry_plain if case.plain else env.registry_tls
        params.update(
            images=[image.format(registry=host) for image in case.images],
            list_tags=case.list_tags,
            timeout=TIMEOUT,
            retries=case.retries,
            retry_max_wait=RETRY_MAX_WAIT,
            concurrency=case.concurrency,
            page_size=case.page_size,
            platforms=case.platforms,
            fail_on_missing=case.fail_on_missing,
            ca_path=self.pki["ca"],
            http_registries=[env.registry_plain] if case.plain else [],
            inspect=case.inspect,
            signed_by=[self.public_pem] if case.signed else None,
            require_attestations=case.attestations,
        )
        if case.identity == "userpass":
            params.update(username=USERNAME, password=PASSWORD)
        elif case.identity == "token":
            params.update(token=OPTION_TOKEN)
        elif case.identity == "bad-token":
            params.update(token=BAD_OPTION_TOKENS[case.index % len(BAD_OPTION_TOKENS)])
        elif case.identity == "identity":
            params.update(auth_file=str(self.auth_file))
        return params


def judge(outcome: Outcome, servers: dict[str, HostileServer], *, hung: bool) -> list[str]:
    case, result = outcome.case, outcome.result
    problems = []
    if hung:
        problems.append("hung: the watchdog had to close the client's connections")
    if outcome.unexpected is not None:
        problems.append("unexpected exception:\n" + _indent(outcome.unexpected))
    if outcome.wall > outcome.bound:
        problems.append(f"took {outcome.wall:.2f} s, beyond the bound of {outcome.bound:.2f} s")
    if result is not None:
        problems += _judge_result(case, result, servers)
        shown = json.dumps(result, default=repr, ensure_ascii=False) + repr(result)
        for marker in SECRET_MARKERS:
            if marker in shown:
                where = shown.find(marker)
                problems.append(f"secret in the result: ...{shown[max(0, where - 120) : where + 60]!r}...")
    for url in outcome.recorded:
        why = refused_host(urlsplit(url).hostname or "")
        if why:
            problems.append(f"attempted a request to {why} address: {url[:200]}")
    for name, server in servers.items():
        if name.startswith("other"):
            for request in server.requests:
                if request.header("Authorization") is not None:
                    problems.append(f"Authorization sent to another origin: {request.method} {request.target[:100]}")
    return problems


def _judge_result(case: Case, result: dict[str, t.Any], servers: dict[str, HostileServer]) -> list[str]:
    problems = []
    registry_host = servers["registry-plain" if case.plain else "registry-tls"].host
    if result.get("failed"):
        msg = result.get("msg")
        if not isinstance(msg, str) or not msg.strip():
            return [f"failed without a message: {result!r}"[:500]]
        if registry_host not in msg:
            problems.append(f"message does not name the registry {registry_host}: {msg[:300]!r}")
        if "Traceback" in msg:
            problems.append(f"traceback in the message: {msg[:300]!r}")
        if len(msg) > MESSAGE_LIMIT * len(case.images):
            problems.append(f"message of {len(msg):,} characters: {msg[:300]!r}...")
        return problems
    images = result.get("images")
    if not isinstance(images, list) or len(images) != len(case.images):
        return [f"result without one entry per image: {result!r}"[:500]]
    for image in images:
        tags = image.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)):
            problems.append(f"tags that are not a list of strings: {tags!r}"[:300])
        digest = image.get("digest")
        if digest is not None and not isinstance(digest, str):
            problems.append(f"digest that is not a string: {digest!r}"[:300])
    if not case.faults and not case.on_connect:
        problems += _exact(case, images)
    return problems


def _exact(case: Case, images: list[dict[str, t.Any]]) -> list[str]:
    """A faultless registry: every tag of every page, the right digest, the platforms it offers; and with
    signed_by or require_attestations (it holds a good signature, an SBOM and a provenance), no failure."""
    problems = []
    every = sorted(tag for page in case.pages for tag in page)
    image = manifest_digest(case.multi_arch)
    # What each reference names: a tag the image, a digest itself (the single platform image has its own).
    known = {**dict.fromkeys(every, image), image: image, PLATFORM_DIGEST: PLATFORM_DIGEST}
    for reference, found in zip(case.images, images):
        repo_tags = found.get("tags")
        if case.list_tags and sorted(repo_tags or []) != every:
            problems.append(f"{reference}: tags {repo_tags} instead of {every}")
        path = reference.split("/", 1)[1]
        wanted = path.partition("@")[2] or path.partition(":")[2]
        if not wanted:
            continue
        digest = known.get(wanted)
        if found.get("exists") is not (digest is not None) or found.get("digest") != digest:
            problems.append(f"{reference}: exists {found.get('exists')}, digest {found.get('digest')}")
        if case.platforms and digest is not None:
            offered = ["linux/amd64", "linux/arm64"] if digest != PLATFORM_DIGEST else ["linux/amd64"]
            if found.get("platforms") != offered:
                problems.append(f"{reference}: platforms {found.get('platforms')} instead of {offered}")
    return problems


def refused_host(host: str) -> str | None:
    """What kind of address the realm and redirect rules keep the client from, or None.

    Written apart from the client's own rule, and reading every spelling getaddrinfo takes for an IPv4 address
    (2852039166, 0xa9fea9fe, 169.254.43518), so that a rule that misses one is caught.
    """
    text = host.strip("[]").split("%", 1)[0]
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
    except ValueError:
        if not text or not set(text) <= set("0123456789abcdefxABCDEFX."):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_link_local:
        return "a link-local"
    if address.is_unspecified:
        return "an unspecified"
    if address.is_private and not address.is_loopback:
        return "a private"
    return None


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.rstrip().splitlines()[-12:])


@dataclass
class Summary:
    seed: int
    cases: int = 0
    seconds: float = 0.0
    verdicts: dict[str, int] = field(default_factory=dict)
    failures: list[Outcome] = field(default_factory=list)
    peak_kib: int = 0
    peak_case: tuple[int, int] | None = None
    slowest: tuple[float, int] = (0.0, -1)
    baseline_kib: int = 0
    # Cases that ended in the refusal of a realm or redirect to an internal address.
    refusals: int = 0
    # Faultless cases whose result was checked against what the registry holds.
    exact: int = 0
    # Requests the stand-in adapter recorded (another host, never connected to).
    recorded: int = 0

    def text(self) -> str:
        verdicts = ", ".join(f"{name} {count}" for name, count in sorted(self.verdicts.items()))
        return (
            f"{self.cases} cases (seed {self.seed}) in {self.seconds:.1f} s: {verdicts}; "
            f"{len(self.failures)} failing; {self.refusals} refusals of an internal address, {self.exact} faultless "
            f"cases checked exactly, {self.recorded} requests to other hosts recorded and not sent; "
            f"peak RSS {self.peak_kib / 1024:.0f} MiB "
            f"(before the first case {self.baseline_kib / 1024:.0f} MiB; highest after case {self.peak_case}); "
            f"slowest case {self.slowest[1]} ({self.slowest[0]:.2f} s)"
        )


def run_cases(
    seed: int,
    indexes: t.Iterable[int],
    *,
    on_outcome: t.Callable[[Outcome], None] | None = None,
) -> Summary:
    summary = Summary(seed=seed, baseline_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    started = time.monotonic()
    with Harness() as harness:
        for index in indexes:
            outcome = harness.run(make_case(seed, index))
            summary.cases += 1
            verdict = outcome.verdict()
            summary.verdicts[verdict] = summary.verdicts.get(verdict, 0) + 1
            if outcome.failed:
                summary.failures.append(outcome)
            msg = str((outcome.result or {}).get("msg", ""))
            if "refusing to" in msg and " address" in msg:
                summary.refusals += 1
            if not outcome.case.faults and not outcome.case.on_connect:
                summary.exact += 1
            summary.recorded += len(outcome.recorded)
            if outcome.wall > summary.slowest[0]:
                summary.slowest = (outcome.wall, index)
            if on_outcome is not None:
                on_outcome(outcome)
        summary.peak_kib, summary.peak_case = harness.peak_kib, harness.peak_case
    summary.seconds = time.monotonic() - started
    return summary
