"""Seed data pushed through the registry API of the kit's token registry.

- ``public/hello``: readable anonymously;
- ``private/app``: ~30 version-like tags (semver, prereleases, ``v`` prefix,
  loose versions, ``latest``, ``sha-...``), each its own manifest; ``1.0.0`` is a
  Docker v2 manifest and ``multi`` an OCI index, to check digests per media type;
- ``restricted/vault``: only ``admin`` may pull it (access denied for others);
- ``public/many``: 2,500 tags, for paging;
- stand-ins for the repositories the documentation's examples name (``EXAMPLE_REPOS``: ``example/api`` for
  ``ghcr.io/example/api``, ``library/alpine`` for Docker Hub's ``alpine``, ...), readable anonymously and by every
  user, so that tests/integration/test_examples.py runs every documented example against the kit;
- platforms: ``private/app:multi`` and ``example/api:1.4.2`` are OCI indexes of linux/amd64 and linux/arm64 with a
  BuildKit-style attestation entry; ``public/dockerlist:1.0`` is a Docker manifest list (the type docker and older
  buildx push) of Docker v2 images for linux/amd64 and linux/arm64; every other tag is a single linux/amd64 image
  (``1.0.0`` a Docker v2 one);
- ``team-a/app`` and ``team-b/app`` (tags ``1.0``, ``1.1``): each pullable by its own user only (``TEAMS``), so that
  credentials kept per repository in one file show whether each repository got its own user.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import typing as t
from concurrent.futures import ThreadPoolExecutor

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

PUBLIC_TAGS = ["latest", "1.0", "1.1", "2.0"]
PRIVATE_TAGS = [
    "0.9.0",
    "1.0.0",
    "1.0.1",
    "1.1.0-rc.1",
    "1.1.0",
    "1.2.0-alpha",
    "1.2.0-beta.2",
    "1.2.0",
    "1.4.1",
    "1.5.0",
    "1.9.0",
    "1.10.0",
    "1.10.0_build.7",
    "2.0.0-rc.1",
    "2.0.0-rc.2",
    "2.0.0",
    "v2.1.0",
    "v2.1.1",
    "2.1",
    "3",
    "latest",
    "stable",
    "edge",
    "sha-1a2b3c4",
    "sha-deadbee",
    "nightly-20261128",
    "1.0.0_hotfix",
    "release-candidate",
    "multi",
    "2.2.0",
]
BIG_COUNT = 2500
# The repositories the examples in README.md, docs/, the role README and the plugins' EXAMPLES name, by path.
# Their tags make each documented outcome true: api and web have 1.4.2 (the quick start's deploy passes), org/api
# lacks it (the gating guide's failure example fails as shown, nearest 1.4.1 and 1.5.0).
EXAMPLE_REPOS = {
    "example/api": ["1.4.0", "1.4.1", "1.4.2", "1.5.0", "2.0.0-rc.1", "v1.3.0", "v1.4.0", "latest"],
    "example/web": ["1.4.0", "1.4.2", "latest"],
    "example/app": ["1.0.0", "latest"],
    "org/app": ["1.4.2", "1.9.0", "1.10.0", "2.0.0-rc.1", "v1.0.0", "v2.0.0", "latest"],
    "org/api": ["1.4.1", "1.5.0"],
    "org/web": ["1.4.0"],
    "team/app": ["1.0.0", "1.1.0"],
    "project/app": ["1.0.0"],
    "library/alpine": ["3.19", "3.20", "latest"],
    "library/redis": ["7.2", "7.4", "latest"],
}
# Namespace -> the one user (besides admin) the token server lets pull it.
TEAMS = {"team-a": "alice", "team-b": "robot$ci"}
TEAM_TAGS = ["1.0", "1.1"]
# Twenty small repositories, for request counts and the benchmark (anonymous pull under public/, alice under
# private/).
FLEET_REPOS = {
    f"{space}/r{number:02d}": ["1.0", "1.1", "2.0"] for space in ("public", "private") for number in range(1, 21)
}


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        payload = b"tagscope test kit\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(payload)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(payload))
    return gzip.compress(raw.getvalue(), mtime=0)


class Pusher:
    def __init__(self, state: dict[str, t.Any]) -> None:
        self.base = f"https://{state.get('token_registry_direct', state['token_registry'])}"
        self.realm = state["realm"]
        self.service = state["service"]
        self.ca = state["ca"]
        self.auth = ("admin", state["users"]["admin"])
        self.tokens: dict[str, str] = {}

    def session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        session.verify = self.ca
        return session

    def token(self, session: requests.Session, name: str) -> dict[str, str]:
        if name not in self.tokens:
            response = session.get(
                self.realm,
                params={"service": self.service, "scope": f"repository:{name}:pull,push"},
                auth=self.auth,
                timeout=30,
            )
            response.raise_for_status()
            self.tokens[name] = response.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def blob(self, session: requests.Session, name: str, data: bytes) -> str:
        digest = _digest(data)
        headers = self.token(session, name)
        response = session.post(f"{self.base}/v2/{name}/blobs/uploads/", headers=headers, timeout=30)
        response.raise_for_status()
        location = requests.compat.urljoin(self.base, response.headers["Location"])
        separator = "&" if "?" in location else "?"
        response = session.put(
            f"{location}{separator}digest={digest}",
            data=data,
            headers={**headers, "Content-Type": "application/octet-stream"},
            timeout=30,
        )
        response.raise_for_status()
        return digest

    def manifest(self, session: requests.Session, name: str, tag: str, body: bytes, media_type: str) -> str:
        headers = {**self.token(session, name), "Content-Type": media_type}
        response = session.put(f"{self.base}/v2/{name}/manifests/{tag}", data=body, headers=headers, timeout=30)
        if response.status_code != 201:
            raise RuntimeError(f"push {name}:{tag}: {response.status_code} {response.text[:300]}")
        return response.headers["Docker-Content-Digest"]

    def image(
        self,
        session: requests.Session,
        name: str,
        label: str,
        *,
        docker: bool = False,
        architecture: str = "amd64",
        variant: str = "",
    ) -> tuple[bytes, str]:
        """Upload a one-layer image whose config names ``label`` and its platform; return its manifest and type."""
        layer = _layer()
        layer_digest = self.blob(session, name, layer)
        config = json.dumps(
            {
                "architecture": architecture,
                **({"variant": variant} if variant else {}),
                "os": "linux",
                "config": {"Labels": {"org.opencontainers.image.version": label}},
                "rootfs": {"type": "layers", "diff_ids": [_digest(gzip.decompress(layer))]},
            },
            sort_keys=True,
        ).encode()
        config_digest = self.blob(session, name, config)
        media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": media_type,
                "config": {
                    "mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                    "digest": config_digest,
                    "size": len(config),
                },
                "layers": [
                    {"mediaType": DOCKER_LAYER if docker else OCI_LAYER, "digest": layer_digest, "size": len(layer)}
                ],
            },
            sort_keys=True,
        ).encode()
        return manifest, media_type


def _push_versions(pusher: Pusher, name: str, tags: list[str]) -> dict[str, str]:
    session = pusher.session()
    digests: dict[str, str] = {}
    for tag in tags:
        if tag == "multi":
            children = []
            for arch in ("amd64", "arm64"):
                body, media_type = pusher.image(session, name, f"multi-{arch}", architecture=arch)
                digest = pusher.manifest(session, name, _digest(body), body, media_type)
                children.append(
                    {
                        "mediaType": media_type,
                        "digest": digest,
                        "size": len(body),
                        "platform": {"architecture": arch, "os": "linux"},
                    }
                )
            digests[tag] = _push_index(pusher, session, name, tag, children)
            continue
        body, media_type = pusher.image(session, name, tag, docker=(tag == "1.0.0"))
        digests[tag] = pusher.manifest(session, name, tag, body, media_type)
    return digests


def _push_index(
    pusher: Pusher, session: requests.Session, name: str, tag: str, children: list[dict[str, t.Any]]
) -> str:
    """An OCI index of ``children`` plus a BuildKit-style attestation entry (unknown/unknown), which is no platform."""
    body, media_type = pusher.image(session, name, f"{tag}-attestation")
    attestation = {
        "mediaType": media_type,
        "digest": pusher.manifest(session, name, _digest(body), body, media_type),
        "size": len(body),
        "platform": {"architecture": "unknown", "os": "unknown"},
        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
    }
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [*children, attestation]}).encode()
    return pusher.manifest(session, name, tag, index, OCI_INDEX)


def _push_multiarch(pusher: Pusher, name: str, tag: str) -> str:
    """``tag`` as an index of linux/amd64 and linux/arm64/v8 images (plus an attestation)."""
    session = pusher.session()
    children = []
    for arch, variant in (("amd64", ""), ("arm64", "v8")):
        body, media_type = pusher.image(session, name, f"{tag}-{arch}", architecture=arch, variant=variant)
        platform = {"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}
        digest = pusher.manifest(session, name, _digest(body), body, media_type)
        children.append({"mediaType": media_type, "digest": digest, "size": len(body), "platform": platform})
    return _push_index(pusher, session, name, tag, children)


def seed_all(state: dict[str, t.Any]) -> dict[str, t.Any]:
    pusher = Pusher(state)
    repos: dict[str, t.Any] = {
        "public/hello": _push_versions(pusher, "public/hello", PUBLIC_TAGS),
        "private/app": _push_versions(pusher, "private/app", PRIVATE_TAGS),
        "restricted/vault": _push_versions(pusher, "restricted/vault", ["1.0"]),
    }
    session = pusher.session()
    body, media_type = pusher.image(session, "public/many", "many")
    tags = [f"build-{i:04d}" for i in range(BIG_COUNT)]

    def push(chunk: list[str]) -> str:
        own = pusher.session()
        digest = ""
        for tag in chunk:
            digest = pusher.manifest(own, "public/many", tag, body, media_type)
        return digest

    with ThreadPoolExecutor(max_workers=6) as pool:
        digests = set(pool.map(push, [tags[i::6] for i in range(6)]))
        repos.update(
            pool.map(
                lambda item: (item[0], _push_shared(pusher, *item)), [*EXAMPLE_REPOS.items(), *FLEET_REPOS.items()]
            )
        )
    repos["public/many"] = {"count": BIG_COUNT, "digest": digests.pop(), "first": tags[0], "last": tags[-1]}
    # The documented platform gate passes for api (an index of amd64 and arm64) and refuses web (amd64 only).
    repos["example/api"]["1.4.2"] = _push_multiarch(pusher, "example/api", "1.4.2")
    repos["public/dockerlist"] = {"1.0": _push_docker_list(pusher, "public/dockerlist", "1.0")}
    repos.update((f"{team}/app", _push_shared(pusher, f"{team}/app", TEAM_TAGS)) for team in TEAMS)
    return repos


def _push_docker_list(pusher: Pusher, name: str, tag: str) -> str:
    """``tag`` as a Docker manifest list of Docker v2 images for linux/amd64 and linux/arm64."""
    session = pusher.session()
    children = []
    for arch in ("amd64", "arm64"):
        body, media_type = pusher.image(session, name, f"{tag}-{arch}", architecture=arch, docker=True)
        digest = pusher.manifest(session, name, _digest(body), body, media_type)
        children.append(
            {
                "mediaType": media_type,
                "digest": digest,
                "size": len(body),
                "platform": {"architecture": arch, "os": "linux"},
            }
        )
    listed = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": children}).encode()
    return pusher.manifest(session, name, tag, listed, DOCKER_LIST)


def _push_shared(pusher: Pusher, name: str, tags: list[str]) -> dict[str, str]:
    """One image under every tag: cheap, for repositories whose tags matter and digests do not."""
    session = pusher.session()
    body, media_type = pusher.image(session, name, name)
    return {tag: pusher.manifest(session, name, tag, body, media_type) for tag in tags}
