"""Cases: a plausible registry and token service, and the faults a hostile one adds to it.

A case is drawn from ``(seed, index)`` alone, so the same pair is always the same case. It fixes what the registry
is (TLS or plain HTTP, open, Bearer or Basic, where its realm is, its tags and pages, a multi-arch index or a single
image) and what the client asks (images, identity, platforms, page size), then plans a few faults: "the second
tag-list reply gets a broken Link header", "every token reply sets expires_in to 1e400". Everything else the
registry answers as a real one would, so that faults are met deep in the flow and not only at its first request.

The replies of one case are drawn from random streams of their own, keyed by the request kind and its rank, so a
reply does not change when another is added. Every secret the client holds, and every token the registry issues,
carries a marker the runner looks for in everything the client returns.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
import threading
import typing as t
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from .server import Action, Close, Drip, Request, Reset, Send, Stall, Stream

# Secrets the client holds. Distinctive, so that finding one anywhere in a result is a leak, never chance.
USERNAME = "fuzz-user"
PASSWORD = "Pw-FUZZSECRET-7f3a-password"
OPTION_TOKEN = "Tk-FUZZSECRET-91c2-option-token"
# Tokens as users paste them: with the line break of the file they came from, or typographic quotes.
BAD_OPTION_TOKENS = (OPTION_TOKEN + "\n", f"\u201c{OPTION_TOKEN}\u201d", OPTION_TOKEN + "\r\nX-Injected: 1")
IDENTITY_TOKEN = "Id-FUZZSECRET-5be4-identity-token"
# Tokens the token service issues start with this.
ISSUED_MARK = "Is-FUZZSECRET-"
SECRET_MARKERS = ("FUZZSECRET", base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode())

# Hosts a realm or redirect may name and the client must never be sent to: link-local (the cloud metadata
# service) and unspecified addresses always, private ones unless the registry is on them; also in the spellings
# getaddrinfo reads as the same address (2852039166 is 169.254.169.254).
FORBIDDEN_ALWAYS = (
    "169.254.169.254",
    "[fe80::1]",
    "0.0.0.0",
    "[::]",
    "[::ffff:169.254.169.254]",
    "2852039166",
    "0xa9fea9fe",
    "169.254.43518",
    "0251.0376.0251.0376",
    "0",
)
FORBIDDEN_ELSEWHERE = ("10.0.0.5", "192.168.1.10", "172.16.0.1", "[fd00::5]", "10.5", "0x0a000005", "167772165")
# A name that does not resolve, for "another host" (the runner's session connects nowhere but 127.0.0.1 anyway).
ELSEWHERE = "registry.fuzz.invalid"

REPOS = ("fuzz/app", "fuzz/other")
TAG_POOL = (
    "1.0.0",
    "1.0.1",
    "1.1.0",
    "1.2.0-rc.1",
    "2.0.0",
    "2.0",
    "3.19-alpine",
    "3.20-alpine",
    "latest",
    "edge",
    "v4.1.0",
    "nightly-20261128",
    "0.9.9b1",
)
STATUSES = (
    100, 101, 103, 199, 200, 201, 202, 203, 204, 206, 226, 299, 300, 301, 302, 303, 304, 305, 307, 308, 399, 400,
    401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 425, 426,
    428, 429, 431, 451, 499, 500, 501, 502, 503, 504, 505, 507, 508, 511, 599, 600, 700, 999,
)  # fmt: skip
KINDS = ("token", "ping", "tags", "manifest-head", "manifest-get", "blob", "referrers")
CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
NON_ASCII = ["é", "€", "\u202e", "\u2028", "\ufeff", "𝔘", "\u00a0", "²", "٣"]


@dataclass(frozen=True)
class Env:
    """The servers of a run, as host:port on 127.0.0.1."""

    registry_tls: str
    auth_tls: str
    other_tls: str
    registry_plain: str
    auth_plain: str
    other_plain: str
    # Signs a cosign payload with the key the client is told to trust (signed_by): base64 of the DER signature.
    sign: t.Callable[[bytes], str] = field(repr=False, default=lambda payload: "")


@dataclass(frozen=True)
class Fault:
    kind: str
    rank: int
    name: str
    # Applies to every reply of its kind from ``rank`` on, not only to that one.
    sticky: bool = False

    def __str__(self) -> str:
        return f"{self.kind}#{self.rank}{'+' if self.sticky else ''}:{self.name}"


@dataclass
class Case:
    seed: int
    index: int
    plain: bool
    auth: str  # open | bearer | basic
    identity: str  # anonymous | userpass | token | identity
    realm: str  # how the Bearer challenge names its realm
    service: str | None
    images: list[str]  # references with {registry} for the host
    list_tags: bool
    platforms: list[str] | None
    page_size: int | None
    concurrency: int
    retries: int
    fail_on_missing: bool
    pages: list[list[str]]
    link_style: str  # relative | absolute
    multi_arch: bool
    on_connect: str | None  # what the registry does with its first connection
    # What the client reads of each image beyond its digest (inspect, signed_by, require_attestations), and whether
    # the registry has the OCI 1.1 referrers API (else 404, and cosign's tags are read).
    inspect: bool = False
    signed: bool = False
    attestations: list[str] | None = None
    referrers: bool = False
    faults: list[Fault] = field(default_factory=list)

    def describe(self) -> str:
        head = (
            f"case {self.seed}/{self.index}: {'http' if self.plain else 'https'} {self.auth} registry, "
            f"{self.identity} client, realm {self.realm}, images {self.images}, "
            f"{len(self.pages)} page(s) {self.link_style}, {'index' if self.multi_arch else 'single image'}"
            + (f", platforms {self.platforms}" if self.platforms else "")
            + (f", page_size {self.page_size}" if self.page_size else "")
            + ("" if self.list_tags else ", list_tags false")
            + f", retries {self.retries}, concurrency {self.concurrency}"
            + (", inspect" if self.inspect else "")
            + (", signed_by" if self.signed else "")
            + (f", require_attestations {self.attestations}" if self.attestations else "")
            + (", referrers API" if self.referrers else "")
        )
        faults = ", ".join(str(fault) for fault in self.faults) or "none"
        connect = f"; first connection: {self.on_connect}" if self.on_connect else ""
        return f"{head}; faults: {faults}{connect}"


def make_case(seed: int, index: int) -> Case:
    rng = random.Random(f"tagscope-fuzz/{seed}/{index}")
    auth = rng.choice(("open", "bearer", "bearer", "bearer", "basic"))
    identity = rng.choice(("anonymous", "anonymous", "userpass", "userpass", "token", "identity", "bad-token"))
    plain = rng.random() < 0.3
    tags = rng.sample(TAG_POOL, rng.randint(0, len(TAG_POOL)))
    npages = rng.choice((1, 1, 2, 3, 4))
    pages = [tags[i::npages] for i in range(npages)]
    refs = []
    for _unused in range(rng.choice((1, 1, 1, 2))):
        repo = rng.choice(REPOS)
        form = rng.choice(("plain", "tag", "tag", "missing", "digest"))
        if form == "tag" and tags:
            refs.append(f"{{registry}}/{repo}:{rng.choice(tags)}")
        elif form == "missing":
            refs.append(f"{{registry}}/{repo}:9.9.9")
        elif form == "digest":
            refs.append(f"{{registry}}/{repo}@{manifest_digest(rng.random() < 0.5)}")
        else:
            refs.append(f"{{registry}}/{repo}")
    case = Case(
        seed=seed,
        index=index,
        plain=plain,
        auth=auth,
        identity=identity,
        realm=rng.choice(("relative", "self", "auth", "auth", "query", "bare")),
        service=rng.choice(("registry.fuzz", "registry.fuzz", "", None)),
        images=refs,
        list_tags=rng.random() < 0.85,
        platforms=rng.choice((None, None, None, ["linux/amd64"], ["linux/arm64", "linux/amd64"])),
        page_size=rng.choice((None, None, None, 1, 2, 100)),
        concurrency=rng.choice((1, 2, 8)),
        retries=rng.choice((0, 1, 2)),
        fail_on_missing=rng.random() < 0.2,
        pages=pages,
        link_style=rng.choice(("relative", "absolute")),
        multi_arch=rng.random() < 0.6,
        on_connect=None,
        inspect=rng.random() < 0.2,
        signed=rng.random() < 0.15,
        attestations=rng.choice((None, None, None, None, None, ["sbom"], ["provenance"], ["sbom", "provenance"])),
        referrers=rng.random() < 0.5,
    )
    # One case in ten is faultless: the client must then get exactly what the registry holds.
    if rng.random() < 0.1:
        return case
    if rng.random() < 0.04:
        case.on_connect = rng.choice(("silent", "close", "reset", "plain"))
    for _unused in range(rng.choice((1, 1, 1, 2, 2, 3))):
        kind = rng.choice(("token", "tags", "tags", "manifest-head", "manifest-get", "blob", "referrers", "any"))
        name = rng.choices(list(MUTATIONS), weights=[m.weight for m in MUTATIONS.values()])[0]
        while kind != "any" and kind not in MUTATIONS[name].kinds:
            name = rng.choices(list(MUTATIONS), weights=[m.weight for m in MUTATIONS.values()])[0]
        if kind == "any":
            kind = rng.choice(MUTATIONS[name].kinds)
        case.faults.append(Fault(kind, rng.choice((0, 0, 0, 1, 1, 2)), name, sticky=rng.random() < 0.15))
    return case


def manifest_digest(multi_arch: bool) -> str:
    return _digest(_manifest_body(multi_arch))


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG_BODY = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-11-30T12:00:00Z",
        "config": {"Labels": {"org.opencontainers.image.revision": "abc123", "team": "fuzz"}},
        "rootfs": {"type": "layers"},
    }
).encode()
CONFIG_DIGEST = _digest(CONFIG_BODY)


def _image_manifest(config: str = CONFIG_DIGEST, layers: list[dict[str, t.Any]] | None = None) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 1},
            "layers": layers or [],
        }
    ).encode()


PLATFORM_BODY = _image_manifest()
PLATFORM_DIGEST = _digest(PLATFORM_BODY)


def _manifest_body(multi_arch: bool) -> bytes:
    if multi_arch:
        entry = {"mediaType": OCI_MANIFEST, "size": len(PLATFORM_BODY), "digest": PLATFORM_DIGEST}
        return json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {**entry, "platform": {"os": "linux", "architecture": "amd64"}},
                    {**entry, "platform": {"os": "linux", "architecture": "arm64"}},
                ],
            }
        ).encode()
    return PLATFORM_BODY


@dataclass
class Content:
    """What the registry of a case holds: manifests by tag and digest, blobs, referrers by subject."""

    documents: dict[str, bytes]
    blobs: dict[str, bytes]
    referrers: dict[str, bytes]

    @classmethod
    def of(cls, case: Case, env: Env, repo: str) -> Content:
        image = _manifest_body(case.multi_arch)
        digest = _digest(image)
        prefix = digest.replace(":", "-")
        # cosign: the simple-signing payload naming the image, signed with the key the client trusts.
        payload = json.dumps(
            {
                "critical": {
                    "identity": {"docker-reference": f"fuzz.example/{repo}"},
                    "image": {"docker-manifest-digest": digest},
                    "type": "cosign container image signature",
                },
                "optional": None,
            }
        ).encode()
        signature_layer = {
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": _digest(payload),
            "size": len(payload),
            "annotations": {"dev.cosignproject.cosign/signature": env.sign(payload)},
        }
        signature = _image_manifest(layers=[signature_layer])
        statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1"}).encode()
        attestation_layer = {
            "mediaType": "application/vnd.dsse.envelope.v1+json",
            "digest": _digest(statement),
            "size": len(statement),
            "annotations": {"predicateType": "https://slsa.dev/provenance/v0.2"},
        }
        attestation = _image_manifest(layers=[attestation_layer])
        sbom = _image_manifest(
            layers=[{**attestation_layer, "annotations": {"predicateType": "https://spdx.dev/Document"}}]
        )
        referring = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": _digest(sbom),
                        "size": len(sbom),
                        "artifactType": "application/spdx+json",
                        "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"},
                    },
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": _digest(attestation),
                        "size": len(attestation),
                        "artifactType": "application/vnd.in-toto+json",
                        "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
                    },
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": _digest(signature),
                        "size": len(signature),
                        "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
                    },
                ],
            }
        ).encode()
        documents = {tag: image for page in case.pages for tag in page}
        documents.update({digest: image, PLATFORM_DIGEST: PLATFORM_BODY, prefix + ".sig": signature})
        documents.update({prefix + ".att": attestation, prefix + ".sbom": sbom})
        documents.update({_digest(doc): doc for doc in (signature, attestation, sbom)})
        blobs = {CONFIG_DIGEST: CONFIG_BODY, _digest(payload): payload, _digest(statement): statement}
        return cls(documents, blobs, {digest: referring} if case.referrers else {})


# ---------------------------------------------------------------------------------------------------------------
# The plausible registry


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reason: str | None = None
    # A 401 that asks for authentication (challenge faults break its WWW-Authenticate).
    challenge: bool = False


@dataclass
class Ctx:
    """What a mutation knows: the case, the servers, the request it answers, and its own random stream."""

    case: Case
    env: Env
    request: Request
    kind: str
    rng: random.Random
    # Blobs a mutated manifest points at, served from then on (their digests match: the client checks them).
    blobs: dict[str, bytes] = field(default_factory=dict)

    def serve(self, blob: bytes) -> str:
        digest = _digest(blob)
        self.blobs[digest] = blob
        return digest

    @property
    def scheme(self) -> str:
        return "http" if self.case.plain else "https"

    @property
    def registry(self) -> str:
        return self.env.registry_plain if self.case.plain else self.env.registry_tls

    @property
    def auth_host(self) -> str:
        return self.env.auth_plain if self.case.plain else self.env.auth_tls

    @property
    def other(self) -> str:
        return self.env.other_plain if self.case.plain else self.env.other_tls

    @property
    def here(self) -> str:
        """This server's own origin."""
        host = {
            "registry": self.registry,
            "auth": self.auth_host,
            "other": self.other,
        }[self.request.server.split("-")[0]]
        return f"{self.scheme}://{host}"


def classify(request: Request) -> str:
    if request.server.startswith("auth") or request.path.endswith("/token"):
        return "token"
    path = request.path
    if path in ("/v2", "/v2/"):
        return "ping"
    if path.endswith("/tags/list"):
        return "tags"
    if "/manifests/" in path:
        return "manifest-head" if request.method == "HEAD" else "manifest-get"
    if "/blobs/" in path:
        return "blob"
    if "/referrers/" in path:
        return "referrers"
    return "other"


class Registry:
    """The registry and token service of one case: answers every request, with the planned faults."""

    def __init__(self, case: Case, env: Env) -> None:
        self.case = case
        self.env = env
        self.issued: list[str] = []
        self._lock = threading.Lock()
        self._ranks: dict[str, int] = {}
        self._contents: dict[str, Content] = {}
        self.blobs: dict[str, bytes] = {}

    def _content_of(self, repo: str) -> Content:
        with self._lock:
            if repo not in self._contents:
                self._contents[repo] = Content.of(self.case, self.env, repo)
            return self._contents[repo]

    def __call__(self, request: Request) -> Action:
        kind = classify(request)
        if request.path.startswith("/_fuzz/"):
            return self._special(request)
        with self._lock:
            rank = self._ranks.get(kind, 0)
            self._ranks[kind] = rank + 1
        rng = random.Random(f"tagscope-fuzz/{self.case.seed}/{self.case.index}/{kind}/{rank}")
        ctx = Ctx(self.case, self.env, request, kind, rng, self.blobs)
        reply = self.model(ctx)
        for fault in self.case.faults:
            if fault.kind == kind and (rank == fault.rank or (fault.sticky and rank > fault.rank)):
                return MUTATIONS[fault.name].apply(ctx, reply)
        return render(reply, head=request.method == "HEAD")

    def _special(self, request: Request) -> Action:
        # /_fuzz/loop redirects to itself for ever; requests gives up after 30.
        return render(Reply(302, [("Location", request.target)]), head=False)

    # -- what a real registry and token service answer

    def model(self, ctx: Ctx) -> Reply:
        kind = ctx.kind
        if kind == "token":
            return self._token(ctx)
        if kind == "other":
            return _error(404, "NOT_FOUND", "no such path")
        if ctx.request.server.startswith("other"):
            # A mirror or CDN a redirect leads to: serves without asking who the client is.
            return self._content(ctx)
        refusal = self._refusal(ctx)
        return refusal if refusal is not None else self._content(ctx)

    def _refusal(self, ctx: Ctx) -> Reply | None:
        case, sent = self.case, ctx.request.header("Authorization") or ""
        if case.auth == "open":
            return None
        if case.auth == "basic":
            if sent == "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode():
                return None
            return _challenge('Basic realm="fuzz registry", charset="UTF-8"')
        with self._lock:
            valid = sent.startswith("Bearer ") and (sent[7:] in self.issued or sent[7:] == OPTION_TOKEN)
        if valid:
            return None
        repo = _repository(ctx.request.path)
        params = [f'realm="{self._realm(ctx)}"']
        if case.service is not None:
            params.append(f'service="{case.service}"')
        params.append(f'scope="repository:{repo}:pull"')
        return _challenge("Bearer " + ",".join(params))

    def _realm(self, ctx: Ctx) -> str:
        auth = f"{ctx.scheme}://{ctx.auth_host}/token"
        return {
            "relative": "/token",
            "bare": "token",
            "self": f"{ctx.scheme}://{ctx.registry}/token",
            "auth": auth,
            "query": auth + "?account=fuzz&client=tagscope",
        }[self.case.realm]

    def _token(self, ctx: Ctx) -> Reply:
        request = ctx.request
        sent = request.header("Authorization") or ""
        form = dict(pair.split("=", 1) for pair in request.body.decode("latin-1").split("&") if "=" in pair)
        if request.method == "POST":
            if form.get("refresh_token") != quote(IDENTITY_TOKEN, safe=""):
                return _error(404, "NOT_FOUND", "no OAuth2 here")
        elif sent.startswith("Basic ") and sent != "Basic " + base64.b64encode(
            f"{USERNAME}:{PASSWORD}".encode()
        ).decode("ascii"):
            return _error(401, "UNAUTHORIZED", "bad credentials")
        with self._lock:
            token = f"{ISSUED_MARK}{self.case.index}-{len(self.issued)}"
            self.issued.append(token)
        key = "access_token" if request.method == "POST" else "token"
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return _json(200, {key: token, "expires_in": 300, "issued_at": now})

    def _content(self, ctx: Ctx) -> Reply:
        request, case = ctx.request, self.case
        repo = _repository(request.path)
        if repo not in REPOS:
            return _error(404, "NAME_UNKNOWN", "repository name not known to registry")
        if ctx.kind == "ping":
            return _json(200, {})
        if ctx.kind == "tags":
            page = _int(request.query.get("p", ["0"])[0])
            tags = case.pages[page] if 0 <= page < len(case.pages) else None
            headers = []
            if tags is not None and page + 1 < len(case.pages):
                target = f"/v2/{repo}/tags/list?p={page + 1}" + (f"&n={case.page_size}" if case.page_size else "")
                if case.link_style == "absolute":
                    target = ctx.here + target
                headers.append(("Link", f'<{target}>; rel="next"'))
            return _json(200, {"name": repo, "tags": tags}, headers)
        content = self._content_of(repo)
        reference = request.path.rsplit("/", 1)[1]
        if ctx.kind in ("manifest-head", "manifest-get"):
            document = content.documents.get(reference)
            if document is None:
                return _error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            headers = [
                ("Content-Type", str(json.loads(document).get("mediaType"))),
                ("Docker-Content-Digest", _digest(document)),
                ("RateLimit-Limit", "100;w=21600"),
                ("RateLimit-Remaining", "76;w=21600"),
            ]
            return Reply(200, headers, document)
        if ctx.kind == "blob":
            blob = content.blobs.get(reference) or self.blobs.get(reference)
            if blob is None:
                return _error(404, "BLOB_UNKNOWN", "blob unknown to registry")
            return Reply(200, [("Content-Type", "application/octet-stream")], blob)
        if ctx.kind == "referrers":
            index = content.referrers.get(reference)
            if index is None:
                return _error(404, "NOT_FOUND", "no referrers API")  # as Distribution 2.8 and 3.1 answer
            return Reply(200, [("Content-Type", OCI_INDEX)], index)
        return _error(404, "NOT_FOUND", "no such path")


def _repository(path: str) -> str:
    parts = path.split("/")
    for end in ("tags", "manifests", "blobs"):
        if end in parts:
            return "/".join(parts[2 : parts.index(end)])
    return ""


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def _json(status: int, body: t.Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(body).encode())


def _error(status: int, code: str, message: str) -> Reply:
    return _json(status, {"errors": [{"code": code, "message": message, "detail": None}]})


def _challenge(value: str) -> Reply:
    reply = _error(401, "UNAUTHORIZED", "authentication required")
    reply.headers.append(("WWW-Authenticate", value))
    reply.challenge = True
    return reply


# ---------------------------------------------------------------------------------------------------------------
# Writing replies


def head_bytes(status_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [status_line, *(f"{name}: {value}" for name, value in headers)]
    # Header text is latin-1 on the wire, as http.client reads it; what latin-1 cannot hold goes out as UTF-8.
    return b"".join(_wire(line) + b"\r\n" for line in lines) + b"\r\n"


def _wire(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def status_line(status: int, reason: str | None = None) -> str:
    return f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever') if reason is None else reason}".rstrip()


_REASONS = {200: "OK", 302: "Found", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}


def render(reply: Reply, *, head: bool, length: int | None = None, keep: bool = True) -> Action:
    headers = [h for h in reply.headers if h[0].lower() != "content-length"]
    headers.append(("Content-Length", str(len(reply.body) if length is None else length)))
    data = head_bytes(status_line(reply.status, reply.reason), headers)
    return Action([Send(data if head else data + reply.body)], keep=keep)


# ---------------------------------------------------------------------------------------------------------------
# Mutations


@dataclass(frozen=True)
class Mutation:
    apply: t.Callable[[Ctx, Reply], Action]
    kinds: tuple[str, ...]
    weight: float


ALL = KINDS
REGISTRY = ("ping", "tags", "manifest-head", "manifest-get", "blob", "referrers")
BODIED = ("token", "tags", "manifest-get", "blob", "referrers")
MUTATIONS: dict[str, Mutation] = {}


def mutation(name: str, kinds: tuple[str, ...] = ALL, weight: float = 1.0) -> t.Callable[..., t.Any]:
    def register(function: t.Callable[[Ctx, Reply], Action]) -> t.Callable[[Ctx, Reply], Action]:
        MUTATIONS[name] = Mutation(function, kinds, weight)
        return function

    return register


def _head(ctx: Ctx) -> bool:
    return ctx.request.method == "HEAD"


# -- status codes and connections


@mutation("status", weight=3)
def _status(ctx: Ctx, reply: Reply) -> Action:
    reply.status = ctx.rng.choice(STATUSES)
    if ctx.rng.random() < 0.3:
        reply.body = ctx.rng.choice((b"", b"<html><body><h1>Oops</h1></body></html>", b'{"errors": []}'))
    return render(reply, head=_head(ctx))


@mutation("reset", weight=1)
def _reset(ctx: Ctx, reply: Reply) -> Action:
    return Action([Reset()])


@mutation("close", weight=1)
def _close(ctx: Ctx, reply: Reply) -> Action:
    return Action([Close()])


@mutation("silent", weight=0.7)
def _silent(ctx: Ctx, reply: Reply) -> Action:
    return Action([Stall()])


@mutation("retry-after", weight=2)
def _retry_after(ctx: Ctx, reply: Reply) -> Action:
    rng = ctx.rng
    later = datetime.now(timezone.utc) + timedelta(seconds=rng.choice((0, 1, 3600)))
    value = rng.choice(
        (
            "0",
            "1",
            "3600",
            "-1",
            "0.1",
            "²",
            "¹",
            "٣",
            "9" * 5000,
            "",
            "\x01",
            later.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "Mon, 99 Foo 99999 99:99:99 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        )
    )
    status = rng.choice((408, 429, 429, 500, 502, 503, 503, 504))
    headers = [("Retry-After", value), *_rate_limit_headers(rng)]
    return render(Reply(status, headers, reply.body if rng.random() < 0.5 else b""), head=_head(ctx))


def _rate_limit_headers(rng: random.Random) -> list[tuple[str, str]]:
    values = ("100;w=21600", "abc", "1;w=²", "²", "-1", "1" * 5000, "1;w=1;w=2", ";", "100;w=", "5;w=٣", "0")
    return [(name, rng.choice(values)) for name in ("RateLimit-Limit", "RateLimit-Remaining") if rng.random() < 0.7]


@mutation("rate-limit-headers", kinds=("manifest-head", "manifest-get"), weight=1.5)
def _rate_limits(ctx: Ctx, reply: Reply) -> Action:
    reply.headers = [h for h in reply.headers if not h[0].lower().startswith("ratelimit")]
    reply.headers += _rate_limit_headers(ctx.rng)
    return render(reply, head=_head(ctx))


# -- challenges


@mutation("challenge", kinds=(*REGISTRY, "token"), weight=4)
def _challenge_fault(ctx: Ctx, reply: Reply) -> Action:
    headers = [h for h in reply.headers if h[0].lower() != "www-authenticate"]
    values = challenge_values(ctx)
    if ctx.rng.random() < 0.3 and len(values) == 1 and ", " in values[0] and len(values[0]) < 4000:
        values = values[0].split(", ")  # the same challenges as several header lines
    body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
    return render(Reply(401, headers + [("WWW-Authenticate", v) for v in values], body), head=_head(ctx))


def challenge_values(ctx: Ctx) -> list[str]:
    """WWW-Authenticate from the grammar (RFC 7235), then broken a few ways."""
    rng = ctx.rng
    count = rng.choices((1, 2, 3, rng.randint(50, 400)), weights=(6, 2, 1, 1))[0]
    parts = [_one_challenge(ctx) for _unused in range(count)]
    value = rng.choice((", ", ",", " , ", ",,")).join(parts)
    for _unused in range(rng.choice((0, 0, 1, 1, 2, 3))):
        value = _break(rng, value)
    return [value]


def _one_challenge(ctx: Ctx) -> str:
    rng = ctx.rng
    scheme = rng.choice(("Bearer", "Bearer", "bearer", "BEARER", "Basic", "Negotiate", "Digest", "NTLM", "X-Fuzz"))
    if rng.random() < 0.1:
        return f"{scheme} {rng.choice(('abc123==', 'dG9rZW4=', '=', 'a=b=c'))}"
    params = []
    if rng.random() < 0.9:
        params.append(("realm", realm_value(ctx)))
    if rng.random() < 0.7:
        params.append(("service", rng.choice(("registry.fuzz", "", "a,b", 'q"uote', "x" * rng.randint(1, 3000)))))
    if rng.random() < 0.5:
        params.append(("scope", rng.choice(("repository:fuzz/app:pull", "repository:fuzz/app:pull,push", ""))))
    if rng.random() < 0.2:
        params.append(("error", rng.choice(("insufficient_scope", "invalid_token", ""))))
    for _unused in range(rng.choice((0, 0, 1, 3))):
        params.append((rng.choice(("x", "charset", "Realm", "REALM", "a-b", "nonce")), _noise(rng, 30)))
    rendered = []
    for name, value in params:
        if rng.random() < 0.8:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            rendered.append(f'{name}="{escaped}"')
        else:
            rendered.append(f"{name}={value}")
    return f"{scheme} " + ",".join(rendered) if rendered else scheme


def realm_value(ctx: Ctx) -> str:
    rng = ctx.rng
    auth = f"{ctx.scheme}://{ctx.auth_host}/token"
    forbidden = rng.choice(FORBIDDEN_ALWAYS + FORBIDDEN_ELSEWHERE)
    return rng.choice(
        (
            auth,
            auth,
            "/token",
            "token",
            "?x=1",
            f"{ctx.scheme}://{ctx.registry}/token?service=a&scope=b",
            f"https://{forbidden}/latest/meta-data/iam",
            f"https://{forbidden}:8443/token",
            f"//{forbidden}/token",
            f"http://{ctx.auth_host}/token",
            f"https://{ELSEWHERE}/token",
            f"https://user:pass@{ctx.auth_host}/token",
            "https://[::1",
            "https://127.0.0.1:99999/token",
            "https://",
            "ftp://127.0.0.1/token",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "",
            "https://exa mple/token",
            auth + "\x00",
            auth.replace("/token", "/t%00ken"),
            "https://" + "a" * 300 + "/token",
            auth + "?" + "q" * rng.randint(10, 20000),
        )
    )


def _noise(rng: random.Random, size: int) -> str:
    alphabet = 'abcXYZ019 ,;="\\<>/:?@[]{}' + "".join(CONTROL[:4]) + "".join(NON_ASCII)
    return "".join(rng.choice(alphabet) for _unused in range(rng.randint(0, size)))


def _break(rng: random.Random, value: str) -> str:
    where = rng.randint(0, len(value))
    how = rng.choice(("quote", "drop-quote", "control", "non-ascii", "huge", "commas", "backslash", "cut", "equals"))
    if how == "quote":
        return value[:where] + '"' + value[where:]
    if how == "drop-quote":
        last = value.rfind('"')
        return value[:last] + value[last + 1 :] if last >= 0 else value + '"'
    if how == "control":
        return value[:where] + rng.choice(CONTROL) + value[where:]
    if how == "non-ascii":
        return value[:where] + rng.choice(NON_ASCII) + value[where:]
    if how == "huge":
        return value[:where] + "h" * rng.choice((1000, 8000, 60000, 70000)) + value[where:]
    if how == "commas":
        return value[:where] + ", , ," + value[where:]
    if how == "backslash":
        return value + "\\"
    if how == "equals":
        return value[:where] + "==" + value[where:]
    return value[:where]


@mutation("internal-realm", kinds=REGISTRY, weight=1.5)
def _internal_realm(ctx: Ctx, reply: Reply) -> Action:
    """A well-formed challenge whose realm names an address the client must not ask (in some spelling)."""
    rng = ctx.rng
    host = rng.choice(FORBIDDEN_ALWAYS + FORBIDDEN_ELSEWHERE)
    realm = rng.choice((f"https://{host}/token", f"https://{host}:8443/latest/meta-data/iam", f"//{host}/token"))
    value = f'Bearer realm="{realm}",service="registry.fuzz",scope="repository:fuzz/app:pull"'
    headers = [h for h in reply.headers if h[0].lower() != "www-authenticate"]
    return render(Reply(401, [*headers, ("WWW-Authenticate", value)], reply.body), head=_head(ctx))


@mutation("internal-redirect", weight=1.5)
def _internal_redirect(ctx: Ctx, reply: Reply) -> Action:
    """A redirect to the metadata service or an unspecified address, in some spelling."""
    host = ctx.rng.choice(FORBIDDEN_ALWAYS)
    location = ctx.rng.choice((f"https://{host}/latest/meta-data/", f"http://{host}{ctx.request.target}", f"//{host}/"))
    return render(Reply(ctx.rng.choice((301, 302, 303, 307, 308)), [("Location", location)]), head=_head(ctx))


# -- Link headers


@mutation("link", kinds=("tags",), weight=4)
def _link_fault(ctx: Ctx, reply: Reply) -> Action:
    reply.headers = [h for h in reply.headers if h[0].lower() != "link"]
    for value in link_values(ctx):
        reply.headers.append(("Link", value))
    return render(reply, head=False)


def link_values(ctx: Ctx) -> list[str]:
    rng = ctx.rng
    request = ctx.request
    repo = _repository(request.path) or "fuzz/app"
    page = _int(request.query.get("p", ["0"])[0])
    forbidden = rng.choice(FORBIDDEN_ALWAYS + FORBIDDEN_ELSEWHERE)
    target = rng.choice(
        (
            f"/v2/{repo}/tags/list?p={page + 1}",
            f"{ctx.here}/v2/{repo}/tags/list?p={page + 1}",
            request.target,
            "",
            f"/v2/{repo}/tags/list?p={page}",
            f"https://{ctx.other}/v2/{repo}/tags/list?p=1",
            f"http://{ctx.registry}/v2/{repo}/tags/list?p=1",
            f"https://{ctx.registry}/v2/{repo}/tags/list?p=1",
            f"https://{forbidden}/v2/{repo}/tags/list",
            f"//{forbidden}/v2/{repo}/tags/list",
            f"https://{ELSEWHERE}/v2/{repo}/tags/list",
            "https://[::1/x",
            "https://127.0.0.1:99999/x",
            f"/v2/{repo}/tags/list?p={page + 1}&last=" + "x" * rng.randint(1, 5000),
            "/_fuzz/loop",
            "javascript:alert(1)",
            "../../../token",
            f"/v2/{repo}/tags/list?p=99",
        )
    )
    rel = rng.choice(('rel="next"', "rel=next", 'rel="prev next"', 'rel="NEXT"', 'rel="prev"', "rel", 'rel="nex'))
    value = f"<{target}>; {rel}"
    if rng.random() < 0.3:
        value = f'<{ctx.here}/other>; rel="prev", ' + value + '; title="x, y"'
    if rng.random() < 0.1:
        value = ", ".join([f"</v2/x?{i}>; rel=first" for i in range(rng.randint(10, 2000))] + [value])
    for _unused in range(rng.choice((0, 0, 1, 2))):
        value = _break(rng, value)
    if rng.random() < 0.1:
        return [value, f'</v2/{repo}/tags/list?p=1>; rel="next"']
    return [value]


# -- JSON bodies


@mutation("json", kinds=BODIED, weight=6)
def _json_fault(ctx: Ctx, reply: Reply) -> Action:
    reply.body = json_body(ctx)
    reply.status = 200 if ctx.rng.random() < 0.8 else reply.status
    return render(reply, head=False)


def json_body(ctx: Ctx) -> bytes:
    rng = ctx.rng
    key = {"token": "token", "tags": "tags", "manifest-get": "manifests", "blob": "os"}.get(ctx.kind, "tags")
    depth = rng.choice((100, 1000, 5000, 100000))
    nested = "[" * depth + "]" * depth
    junk = rng.choice(("x", 1, 1.5, {}, True, None, [[]], [1, {}, None, True, "ok"]))
    odd_tags = ["1.0.0-beta.²", "²", "1.²", "v٣", "1.0.0-ǅ", "\u0000", "a\nb", "1.0.0+²"]
    texts = (
        "[]",
        '"a string"',
        "12345",
        "null",
        "true",
        "",
        "   ",
        "<html><body>Sign in</body></html>",
        json.dumps({key: junk}),
        json.dumps({"name": 1, "tags": ["ok", None, 7, {"a": 1}, ["b"], "", " ", "a" * 1000]}),
        json.dumps({"tags": odd_tags}),
        nested,
        '{"' + key + '": ' + nested + "}",
        '{"a":' * depth + "1" + "}" * depth,
        '{"' + key + '": 1e999, "expires_in": -1e999}',
        '{"' + key + '": ' + "9" * rng.choice((400, 4300, 5000)) + "}",
        '{"' + key + '": [' + "1" * 5000 + "]}",
        '{"' + key + '": ["a"], "' + key + '": "dup", "' + key + '": null}',
        '{"tags": ["\\ud800", "\\udfff"], "token": "\\ud800"}',
        '{"tags": NaN, "token": Infinity, "expires_in": NaN}',
        '{"tags": ["a", ',
        '{"tags": ["a"]} trailing',
        json.dumps({"errors": [{"code": "\x1b[31mRED", "message": "\u202eevil"}]}),
    )
    raw = (
        b'{"tags": ["\xff\xfe", "ok"], "token": "\xc0\xaf"}',
        b'\xef\xbb\xbf{"tags": ["bom"], "token": "bom"}',
        json.dumps({"tags": ["a"], "token": "utf16"}).encode("utf-16"),
    )
    pick = rng.randrange(len(texts) + len(raw) + 2)
    if pick < len(texts):
        return texts[pick].encode()
    if pick < len(texts) + len(raw):
        return raw[pick - len(texts)]
    if pick == len(texts) + len(raw):
        return json.dumps({"tags": [f"t{i}" for i in range(rng.choice((10, 1000, 20000)))]}).encode()
    return json.dumps({"tags": ["x" * rng.choice((10000, 500000))]}).encode()


# -- token replies


@mutation("token-reply", kinds=("token",), weight=6)
def _token_fault(ctx: Ctx, reply: Reply) -> Action:
    rng = ctx.rng
    try:
        body = json.loads(reply.body)
    except ValueError:
        body = {}
    if not isinstance(body, dict) or "errors" in body:
        body = {"token": f"{ISSUED_MARK}{ctx.case.index}-x"}
    token = body.get("token") or body.get("access_token") or f"{ISSUED_MARK}{ctx.case.index}-x"
    huge = 10**400
    text = json.dumps(body)
    for _unused in range(rng.randint(1, 3)):
        what = rng.choice(("expires_in", "issued_at", "token", "both"))
        if what == "expires_in":
            value = rng.choice(("1e308", "-1", "0", '"abc"', '"300"', "1e400", "-1e400", "NaN", "Infinity", "true"))
            value = rng.choice((value, "[]", "{}", str(huge), str(-huge), str(2**63), "1e-300", "null", '"1e400"'))
            text = _set(text, "expires_in", value)
        elif what == "issued_at":
            value = rng.choice(
                (
                    "0001-01-01T00:00:00Z",
                    "9999-12-31T23:59:59Z",
                    "2024-01-01T00:00:00+99:00",
                    "2024-01-01T00:00:00-99:59",
                    "2024-01-01T00:00:00+23:59",
                    "0001-01-01T00:00:00+23:59",
                    "9999-12-31T23:59:59-23:59",
                    "2024-02-30T00:00:00Z",
                    "2024-01-01T25:61:61Z",
                    "",
                    "now",
                    "2024-01-01T00:00:00." + "9" * 40 + "Z",
                    "+99999-01-01T00:00:00Z",
                    "1970-01-01 00:00:00",
                    "2099-01-01T00:00:00z",
                )
            )
            raw = rng.choice((json.dumps(value), "0", "null", "[]", "1e400"))
            text = _set(text, "issued_at", raw)
        elif what == "token":
            value = rng.choice(
                (
                    "null",
                    '""',
                    "0",
                    "[]",
                    "{}",
                    json.dumps(token + "\n"),
                    json.dumps(token + "\r\nX-Injected: 1"),
                    json.dumps(token + " ok"),
                    json.dumps(token + "\x00"),
                    json.dumps(token + "\x7f"),
                    json.dumps(token + "ö€"),
                    json.dumps(token + "é"),
                    json.dumps(token + "x" * rng.choice((1000, 100000, 900000))),
                    json.dumps(" " + token),
                )
            )
            text = _set(text, rng.choice(("token", "access_token")), value)
        else:
            text = _set(text, "access_token", json.dumps(token + "-other"))
    reply.body = text.encode()
    return render(reply, head=False)


def _set(text: str, key: str, raw: str) -> str:
    """The JSON object ``text`` with ``key`` set to the raw JSON ``raw`` (which json.dumps could not write)."""
    body = json.loads(text)
    body.pop(key, None)
    rest = json.dumps(body)[1:]
    return "{" + json.dumps(key) + ": " + raw + ("," if rest != "}" else "") + rest


# -- manifests and blobs


@mutation("digest-header", kinds=("manifest-head", "manifest-get"), weight=2)
def _digest_fault(ctx: Ctx, reply: Reply) -> Action:
    rng = ctx.rng
    reply.headers = [h for h in reply.headers if h[0].lower() != "docker-content-digest"]
    value = rng.choice(
        (
            None,
            "",
            "sha256:short",
            "md5:abc",
            "sha256:" + "A" * 64,
            "sha256:" + "a" * 10000,
            "sha256:" + "a" * 63 + "\x01",
            "sha256:" + "é" * 64,
            "sha256:" + "1" * 64 + ", sha256:" + "2" * 64,
            "not a digest at all",
        )
    )
    if value is not None:
        reply.headers.append(("Docker-Content-Digest", value))
    if rng.random() < 0.3:
        reply.status = 200
    return render(reply, head=_head(ctx), length=rng.choice((None, None, 0, 10**6)))


@mutation("manifest-body", kinds=("manifest-get", "blob", "referrers"), weight=3)
def _manifest_fault(ctx: Ctx, reply: Reply) -> Action:
    rng = ctx.rng
    junk = rng.choice(("x", 1, None, [], {}, ["a"], {"os": {}}, "linux/amd64", "é" * 50, "a" * 100000))
    bodies = (
        {"manifests": [junk, {"platform": junk}, {"platform": {"os": junk, "architecture": junk, "variant": junk}}]},
        {"manifests": junk},
        {"manifests": [{"platform": {"os": "unknown", "architecture": "unknown"}}] * rng.randint(1, 5000)},
        {"config": junk},
        {"config": {"digest": junk}},
        {"config": {"digest": rng.choice(("sha256:../../token", "sha256:" + "x" * 5000, "sha256:?a=b#c"))}},
        {"config": {"digest": f"sha256:@{rng.choice(FORBIDDEN_ALWAYS)}/x"}},
        {"os": junk, "architecture": junk, "variant": junk},
        {"schemaVersion": 1, "fsLayers": []},
    )
    reply.body = json.dumps(rng.choice(bodies)).encode()
    reply.status = 200
    return render(reply, head=False)


@mutation("hostile-documents", kinds=("manifest-get", "referrers"), weight=3)
def _hostile_documents(ctx: Ctx, reply: Reply) -> Action:
    """Signature, attestation, image and referrers documents that are well-formed but for one hostile part, with
    the blobs they name served (their digests match, so the client reads and parses them)."""
    rng = ctx.rng
    depth = rng.choice((1000, 100000))
    nested = ("[" * depth + "]" * depth).encode()
    payload = rng.choice(
        (
            nested,
            nested,
            b"\xff\xfe not utf-8",
            b"null",
            json.dumps(
                {"critical": {"image": {"docker-manifest-digest": rng.choice((5, None, [], "x" * 5000))}}}
            ).encode(),
            json.dumps({"critical": {"image": {"docker-manifest-digest": "sha256:" + "0" * 64}}}).encode(),
            b" " * (300 * 1024),
        )
    )
    signature = rng.choice((base64.b64encode(b"junk").decode(), "QUJD" * 20000, None, 5, "", "!!!not base64"))
    layer: dict[str, t.Any] = {
        "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
        "digest": ctx.serve(payload),
        "size": len(payload),
        "annotations": {"dev.cosignproject.cosign/signature": signature},
    }
    spoil = rng.choice(("none", "none", "none", "media", "size", "annotations", "digest"))
    if spoil == "media":
        layer["mediaType"] = rng.choice((5, None, "x" * 1000))
    elif spoil == "size":
        layer["size"] = rng.choice((-1, 10**30, "big", None, 300 * 1024))
    elif spoil == "annotations":
        layer["annotations"] = rng.choice(("not a dict", [], {"predicateType": 5}))
    elif spoil == "digest":
        layer["digest"] = rng.choice((None, 5, "sha256:" + "f" * 64, "md5:x"))
    config = ctx.serve(
        rng.choice(
            (
                nested,
                ("{" + '"a":{' * depth + "}" * depth + "}").encode(),
                b"not json",
                json.dumps(
                    {"created": rng.choice((5, None, "x" * 1000)), "config": {"Labels": rng.choice((5, []))}}
                ).encode(),
            )
        )
    )
    entry = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": rng.choice((ctx.serve(payload), None, 5, "sha256:" + "f" * 64, "None", "sha256:../../x")),
        "artifactType": rng.choice(
            (
                "application/vnd.dev.cosign.artifact.sig.v1+json",
                "application/vnd.in-toto+json",
                5,
                None,
                "sigstore.bundle",
            )
        ),
        "annotations": rng.choice(
            ({"in-toto.io/predicate-type": 5}, {"predicateType": "https://spdx.dev/Document"}, [])
        ),
        "platform": rng.choice(({"os": "linux", "architecture": "amd64"}, "linux", None)),
    }
    body = rng.choice(
        (
            {"schemaVersion": 2, "config": {"digest": config}, "layers": [layer] * rng.choice((1, 2, 500))},
            {"schemaVersion": 2, "config": {"digest": config}, "layers": [layer]},
            {"schemaVersion": 2, "config": {"digest": config}, "layers": layer},
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [entry] * rng.choice((1, 50)),
            },
            {"manifests": entry},
            {"layers": [layer], "manifests": [entry], "subject": {"digest": 5}},
        )
    )
    return render(
        Reply(200, [("Content-Type", "application/vnd.oci.image.manifest.v1+json")], json.dumps(body).encode()),
        head=False,
    )


# -- redirects


@mutation("redirect", weight=4)
def _redirect(ctx: Ctx, reply: Reply) -> Action:
    rng = ctx.rng
    request = ctx.request
    # Redirects may lead to private addresses (a registry's storage on the same network); never to link-local
    # or unspecified ones.
    forbidden = rng.choice(FORBIDDEN_ALWAYS)
    other_scheme = "https" if ctx.case.plain else "http"
    location = rng.choice(
        (
            request.target,
            "/_fuzz/loop",
            f"https://{ctx.other}{request.target}",
            f"http://{ctx.other}{request.target}",
            f"{ctx.scheme}://{ctx.other}{request.target}",
            f"{other_scheme}://{ctx.registry}{request.target}",
            f"https://{forbidden}/latest/meta-data/",
            f"http://{forbidden}{request.target}",
            f"//{forbidden}/x",
            f"https://{ELSEWHERE}{request.target}",
            "ftp://127.0.0.1/x",
            "file:///etc/passwd",
            "data:,hello",
            "javascript:alert(1)",
            "http://[::1",
            "http://127.0.0.1:99999/",
            "",
            " /x y z ",
            "/caf\u00e9/\u20ac",
            "/x" + rng.choice(CONTROL),
            "/" + "l" * rng.choice((100, 10000, 70000)),
            "https://user:pass@" + ctx.other + "/x",
        )
    )
    status = rng.choice((301, 302, 303, 307, 308, 300, 305, 399))
    headers = [("Location", location)] if rng.random() < 0.95 else []
    return render(Reply(status, headers, b""), head=_head(ctx))


# -- framing


@mutation("framing", weight=6)
def _framing(ctx: Ctx, reply: Reply) -> Action:
    rng = ctx.rng
    body = reply.body
    headers = [h for h in reply.headers if h[0].lower() not in ("content-length", "transfer-encoding")]
    line = status_line(reply.status, reply.reason)
    how = rng.choice(
        (
            "length-long",
            "length-short",
            "length-twice",
            "length-junk",
            "length-and-chunked",
            "truncated",
            "chunked-bad-size",
            "chunked-huge-size",
            "chunked-no-end",
            "chunked-cut",
            "chunked-extension",
            "chunked-endless",
            "no-length-endless",
            "status-garbage",
            "http09",
            "header-huge",
            "headers-many",
            "header-control",
            "header-no-colon",
            "header-fold",
            "continue-first",
            "early-hints",
            "body-on-head",
            "empty",
        )
    )
    if how == "length-long":
        return Action([Send(head_bytes(line, [*headers, ("Content-Length", str(len(body) + 100))]) + body), Close()])
    if how == "length-short":
        cut = max(0, len(body) - rng.randint(1, 50))
        return Action([Send(head_bytes(line, [*headers, ("Content-Length", str(cut))]) + body)])
    if how == "length-twice":
        extra = [("Content-Length", str(len(body))), ("Content-Length", str(len(body) + 1))]
        return Action([Send(head_bytes(line, headers + extra) + body)], keep=False)
    if how == "length-junk":
        value = rng.choice(("-1", "abc", "1e3", " ", "99999999999999999999999", "0x10", "+5"))
        return Action([Send(head_bytes(line, [*headers, ("Content-Length", value)]) + body), Close()])
    if how == "length-and-chunked":
        extra = [("Content-Length", "5"), ("Transfer-Encoding", "chunked")]
        return Action([Send(head_bytes(line, headers + extra) + _chunked(body))], keep=False)
    if how == "truncated":
        cut = rng.randint(0, max(0, len(body) - 1))
        return Action([Send(head_bytes(line, [*headers, ("Content-Length", str(len(body)))]) + body[:cut]), Close()])
    chunked = [*headers, ("Transfer-Encoding", "chunked")]
    if how == "chunked-bad-size":
        return Action([Send(head_bytes(line, chunked) + b"zz\r\n" + body + b"\r\n0\r\n\r\n")], keep=False)
    if how == "chunked-huge-size":
        return Action([Send(head_bytes(line, chunked) + b"ffffffffffffffff\r\n" + body), Close()])
    if how == "chunked-no-end":
        return Action([Send(head_bytes(line, chunked) + b"%x\r\n" % len(body) + body + b"\r\n"), Close()])
    if how == "chunked-cut":
        return Action([Send(head_bytes(line, chunked) + b"%x\r\n" % (len(body) + 10) + body), Close()])
    if how == "chunked-extension":
        size = b"%x" % len(body) + b";" + b"e" * rng.choice((10, 70000))
        return Action([Send(head_bytes(line, chunked) + size + b"\r\n" + body + b"\r\n0\r\n\r\n")], keep=False)
    if how == "chunked-endless":
        return Action([Send(head_bytes(line, chunked)), Stream(b"8000\r\n" + b" " * 0x8000 + b"\r\n", 40 << 20)])
    if how == "no-length-endless":
        return Action([Send(head_bytes(line, headers)), Stream(b"[" * 65536, 40 << 20)], keep=False)
    if how == "status-garbage":
        bad = rng.choice(("HTTP/1.1 abc OK", "HTTP/2 200", "FOO", "HTTP/1.1 99 X", "HTTP/1.1 1000 X", "HTTP/1.1"))
        return Action([Send(head_bytes(bad, headers) + body)], keep=False)
    if how == "http09":
        return Action([Send(body or b"hello"), Close()])
    if how == "header-huge":
        big = [("X-Fuzz", "h" * rng.choice((8000, 65000, 70000)))]
        return Action([Send(head_bytes(line, [*headers, *big, ("Content-Length", str(len(body)))]) + body)])
    if how == "headers-many":
        many = [(f"X-Fuzz-{i}", "v") for i in range(rng.choice((90, 101, 5000)))]
        return Action([Send(head_bytes(line, [*headers, *many, ("Content-Length", str(len(body)))]) + body)])
    if how == "header-control":
        odd = [("X-Fuzz", "a" + rng.choice(CONTROL) + "b" + rng.choice(NON_ASCII)), ("X-\x01Name", "v")]
        return Action([Send(head_bytes(line, [*headers, *odd, ("Content-Length", str(len(body)))]) + body)])
    if how == "header-no-colon":
        data = head_bytes(line, [*headers, ("Content-Length", str(len(body)))])
        return Action([Send(data[:-2] + b"no colon here\r\n\r\n" + body)], keep=False)
    if how == "header-fold":
        data = head_bytes(line, [*headers, ("X-Folded", "first"), ("Content-Length", str(len(body)))])
        return Action([Send(data.replace(b"X-Folded: first\r\n", b"X-Folded: first\r\n  second\r\n") + body)])
    if how == "continue-first":
        return Action([Send(b"HTTP/1.1 100 Continue\r\n\r\n" + head_bytes(line, [*headers, _length(body)]) + body)])
    if how == "early-hints":
        hints = b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n"
        return Action([Send(hints + head_bytes(line, [*headers, _length(body)]) + body)], keep=False)
    if how == "body-on-head":
        return Action([Send(head_bytes(line, [*headers, _length(body)]) + (body or b"{}"))])
    return Action([Send(b""), Close()])


def _length(body: bytes) -> tuple[str, str]:
    return ("Content-Length", str(len(body)))


def _chunked(body: bytes) -> bytes:
    return (b"%x\r\n" % len(body) + body + b"\r\n" if body else b"") + b"0\r\n\r\n"


# -- compression


_BOMBS: dict[str, bytes] = {}


def _bomb(name: str) -> bytes:
    """Compressed bodies that expand far beyond every cap; made once per process, a MiB at a time (the server
    shares the process whose peak memory is measured)."""
    if name not in _BOMBS:
        if name == "gzip-gzip":
            _BOMBS[name] = gzip.compress(_compressed(b" ", 256, wbits=31), 9)
        else:
            _BOMBS[name] = _compressed(b"[" if name == "deflate" else b" ", 64, wbits=15 if name == "deflate" else 31)
    return _BOMBS[name]


def _compressed(byte: bytes, mebibytes: int, *, wbits: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    piece = byte * (1 << 20)
    return b"".join(compressor.compress(piece) for _unused in range(mebibytes)) + compressor.flush()


@mutation("encoding", kinds=(*BODIED, "manifest-head"), weight=3)
def _encoding(ctx: Ctx, reply: Reply) -> Action:
    rng = ctx.rng
    how = rng.choice(("gzip-ok", "gzip", "gzip-gzip", "deflate", "bad-gzip", "unknown", "gzip-twice-label"))
    headers = [h for h in reply.headers if h[0].lower() != "content-length"]
    if how == "gzip-ok":
        encoding, body = "gzip", gzip.compress(reply.body)
    elif how == "bad-gzip":
        encoding, body = "gzip", b"\x1f\x8b\x08\x00garbage" + reply.body
    elif how == "unknown":
        encoding, body = rng.choice(("br", "zstd", "x-fuzz", "identity, gzip")), reply.body
    elif how == "gzip-twice-label":
        encoding, body = "gzip, gzip, gzip, gzip, gzip, gzip", gzip.compress(reply.body)
    else:
        encoding, body = {"gzip": "gzip", "gzip-gzip": "gzip, gzip", "deflate": "deflate"}[how], _bomb(how)
    headers.append(("Content-Encoding", encoding))
    return render(Reply(reply.status, headers, body, reply.reason), head=_head(ctx))


# -- slow servers: within the read timeout at every step, but never done


@mutation("drip", weight=0.6)
def _drip(ctx: Ctx, reply: Reply) -> Action:
    """A server that is never silent for a whole timeout, and never done."""
    if ctx.rng.random() < 0.5:
        # Headers that never end: one header line after another, each in time.
        line = head_bytes(status_line(reply.status), [])[:-2]
        endless = b"".join(b"X-Fuzz-%d: v\r\n" % i for i in range(99))
        return Action([Send(line), Drip(endless, 4, DRIP_EVERY)])
    headers = [h for h in reply.headers if h[0].lower() != "content-length"]
    head = head_bytes(status_line(reply.status), [*headers, ("Content-Length", str(1 << 20))])
    return Action([Send(head), Drip(b" " * (1 << 20), 16, DRIP_EVERY)])


# The runner's timeout is longer than this: a drip stays within the read timeout at every step.
DRIP_EVERY = 0.15


@mutation("big-body", kinds=BODIED, weight=0.3)
def _big(ctx: Ctx, reply: Reply) -> Action:
    """A body just over its cap, or a tag page just under the 16 MiB cap with as many tags as fit."""
    rng = ctx.rng
    if ctx.kind == "tags" and rng.random() < 0.5:
        # The page that costs the most memory to parse: as many short strings as fit under the 16 MiB cap (two
        # characters: one-character strings are shared by Python, longer ones cost more bytes each).
        pairs = [a + b for a in "abcdefghijklmnopqrstuvwxyz0123456789" for b in "abcdefghijklmnopqrstuvwxyz0123456789"]
        chunk = b"".join(b'"%s",' % pair.encode() for pair in pairs) * 20
        total = len(chunk) * (((16 << 20) - 1024) // len(chunk))
        length = ("Content-Length", str(len(b'{"tags": [') + total + len(b'"end"]}')))
        head = head_bytes("HTTP/1.1 200 OK", [("Content-Type", "application/json"), length])
        return Action([Send(head + b'{"tags": ['), Stream(chunk, total), Send(b'"end"]}')])
    cap = {"token": 1 << 20, "tags": 16 << 20}.get(ctx.kind, 4 << 20) + 1024
    head = head_bytes("HTTP/1.1 200 OK", [("Content-Type", "application/json"), ("Content-Length", str(cap))])
    return Action([Send(head), Stream(b" " * 65536, cap)])
