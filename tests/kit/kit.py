"""Start and stop the test kit; everything listens on 127.0.0.1 only.

Three real Distribution registries (``/usr/bin/docker-registry``) share one
storage directory: ``token`` (token auth verified by the registry), ``basic``
(htpasswd, a Basic challenge like ECR) and ``open`` (no auth). The kit's own
process serves the token server and the paging front (``servers.py``).
On demand (``Kit.mirror_up``), a fourth one in proxy mode is a pull-through
mirror of the token registry, with storage of its own.
Every process is started in its own session and stopped by its PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import typing as t
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from .pki import make_pki

REGISTRY_BIN = os.environ.get("TAGSCOPE_REGISTRY_BIN", "/usr/bin/docker-registry")
SERVICE = "tagscope-kit"
ISSUER = "tagscope-kit-issuer"

# Users of the token server and the htpasswd registry. The passwords are test
# fixtures; the second one has a colon and a space on purpose.
USERS = {
    "admin": "admin-pushes-seed-data",
    "alice": "pa:ss word",
    "robot$ci": "robot-Secret-42",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bcrypt(password: str) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # noqa: PLC0415 - deprecated module, only needed here

        # Cost 4: the registry checks the hash on every request.
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    except (ImportError, AttributeError):
        htpasswd = shutil.which("htpasswd")
        if not htpasswd:
            raise RuntimeError("need Python's crypt module or htpasswd (apache2-utils) for bcrypt") from None
        out = subprocess.run([htpasswd, "-nbB", "-C", "4", "x", password], check=True, capture_output=True, text=True)
        return out.stdout.strip().split(":", 1)[1]


def _registry_config(directory: Path, port: int, pki: dict[str, str], auth: str) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: info",
        "  formatter: text",
        "  accesslog:",
        "    disabled: false",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {directory / 'storage'}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
        f"  secret: tagscope-kit-{port}",
        "  tls:",
        f"    certificate: {pki['server_cert']}",
        f"    key: {pki['server_key']}",
    ]
    lines += auth.splitlines()
    return "\n".join(lines) + "\n"


class Kit:
    """A running (or stopped) kit, described by ``<dir>/kit.json``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory).resolve()
        self.state_file = self.dir / "kit.json"

    @property
    def state(self) -> dict[str, t.Any]:
        return json.loads(self.state_file.read_text())

    def up(self, *, seed: bool = True, delay: float = 0.0) -> dict[str, t.Any]:
        """Start everything; with ``delay`` (seconds), the token registry and its token service sit behind a proxy
        that adds that much to every round trip (``token_registry`` and the realm are then the proxy's)."""
        if self.state_file.exists():
            print(f"kit: a kit is already running in {self.dir}; stopping it first", file=sys.stderr)
            self.down()
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        if not os.access(REGISTRY_BIN, os.X_OK):
            raise RuntimeError(f"{REGISTRY_BIN} not found: apt-get install docker-registry")
        pki = make_pki(self.dir / "pki")
        ports = {name: _free_port() for name in ("token_registry", "basic_registry", "open_registry")}
        state: dict[str, t.Any] = {
            "dir": str(self.dir),
            "ca": pki["ca"],
            "pids": {},
            "users": USERS,
            "service": SERVICE,
            # Write {"post": "disabled"} here and the token server answers 404 to OAuth2 POSTs.
            "token_mode_file": str(self.dir / "token-mode.json"),
        }
        # Written at once so that `down` can stop whatever did start if a later step fails.
        self._save(state)
        try:
            servers_config = {
                "server_cert": pki["server_cert"],
                "server_key": pki["server_key"],
                "signing_key": pki["signing_key"],
                "ca": pki["ca"],
                "users": USERS,
                "issuer": ISSUER,
                "token_log": str(self.dir / "token-server.log"),
                "mode_file": str(self.dir / "token-mode.json"),
                "ports_file": str(self.dir / "servers-ports.json"),
                "upstream": f"https://127.0.0.1:{ports['token_registry']}",
            }
            (self.dir / "servers.json").write_text(json.dumps(servers_config))
            state["pids"]["servers"] = self._spawn(
                [sys.executable, "-m", "tests.kit.servers", str(self.dir / "servers.json")], "servers"
            )
            self._save(state)
            server_ports = self._wait_for_file(self.dir / "servers-ports.json")
            far: dict[str, int] = {}
            if delay > 0:
                state["pids"]["delay"] = self._spawn(
                    [
                        sys.executable,
                        "-m",
                        "tests.kit.delay",
                        str(self.dir / "delay-ports.json"),
                        str(delay),
                        str(server_ports["token"]),
                        str(ports["token_registry"]),
                    ],
                    "delay",
                )
                self._save(state)
                far = {int(k): v for k, v in self._wait_for_file(self.dir / "delay-ports.json").items()}
            realm = f"https://127.0.0.1:{far.get(server_ports['token'], server_ports['token'])}/token"

            htpasswd = self.dir / "htpasswd"
            htpasswd.write_text("".join(f"{user}:{_bcrypt(pw)}\n" for user, pw in USERS.items()))
            auths = {
                "token_registry": "\n".join(
                    [
                        "auth:",
                        "  token:",
                        f"    realm: {realm}",
                        f"    service: {SERVICE}",
                        f"    issuer: {ISSUER}",
                        f"    rootcertbundle: {pki['signing_cert']}",
                    ]
                ),
                "basic_registry": "\n".join(
                    [
                        "auth:",
                        "  htpasswd:",
                        "    realm: tagscope-kit-basic",
                        f"    path: {htpasswd}",
                    ]
                ),
                "open_registry": "",
            }
            for name, auth in auths.items():
                config = self.dir / f"{name}.yml"
                config.write_text(_registry_config(self.dir, ports[name], pki, auth))
                state["pids"][name] = self._spawn([REGISTRY_BIN, "serve", str(config)], name)
                self._save(state)
            state.update(
                {
                    "realm": realm,
                    "token_registry": f"127.0.0.1:{ports['token_registry']}",
                    "basic_registry": f"127.0.0.1:{ports['basic_registry']}",
                    "open_registry": f"127.0.0.1:{ports['open_registry']}",
                    "paging_registry": f"127.0.0.1:{server_ports['paging']}",
                }
            )
            for name in ("token_registry", "basic_registry", "open_registry", "paging_registry"):
                self._wait_https(f"https://{state[name]}/v2/", pki["ca"], name)
            if far:
                # Seed data goes in directly; everything else meets the delay.
                state["token_registry_direct"] = state["token_registry"]
                state["token_registry"] = f"127.0.0.1:{far[ports['token_registry']]}"
                state["delay"] = delay
            self._save(state)
            if seed:
                from .seed import seed_all  # noqa: PLC0415 - only when seeding
                from .supply_chain import seed_supply_chain  # noqa: PLC0415

                # Beside the rest (other repositories, its own thread): the kit starts no later for it.
                with ThreadPoolExecutor(max_workers=1) as pool:
                    supply_chain = pool.submit(seed_supply_chain, state, self.dir / "supply-chain")
                    state["repos"] = seed_all(state)
                    state["supply_chain"] = supply_chain.result()
                self._save(state)
        except BaseException:
            self.down()
            raise
        self._write_vars(state)
        return state

    def mirror_up(self, name: str = "mirror_registry", *, user: str = "alice") -> str:
        """Start a pull-through mirror of the token registry (Distribution in proxy mode, its own storage, open to
        anonymous clients, asking its upstream as ``user``); its ``host:port``. ``down`` stops it too.

        Not started with the kit: only the mirror tests need it, and it starts in about a second.
        """
        state = self.state
        if name in state:
            return t.cast(str, state[name])
        port = _free_port()
        directory = self.dir / name
        directory.mkdir()
        pki = {"server_cert": str(self.dir / "pki" / "server.crt"), "server_key": str(self.dir / "pki" / "server.key")}
        upstream = state.get("token_registry_direct") or state["token_registry"]
        proxy = "\n".join(
            [
                "proxy:",
                f"  remoteurl: https://{upstream}",
                f"  username: {json.dumps(user)}",
                f"  password: {json.dumps(USERS[user])}",
            ]
        )
        config = directory / "config.yml"
        config.write_text(_registry_config(directory, port, pki, proxy))
        # Go reads the CAs it trusts for the upstream from SSL_CERT_FILE.
        state["pids"][name] = self._spawn(
            [REGISTRY_BIN, "serve", str(config)], name, env={"SSL_CERT_FILE": state["ca"]}
        )
        state[name] = f"127.0.0.1:{port}"
        self._save(state)
        self._wait_https(f"https://{state[name]}/v2/", state["ca"], name)
        return t.cast(str, state[name])

    def mirror_down(self, name: str = "mirror_registry") -> None:
        state = self.state
        pid = state["pids"].pop(name, None)
        if pid is not None:
            _stop(pid, name)
        state.pop(name, None)
        self._save(state)

    def down(self) -> None:
        if not self.state_file.exists():
            return
        for name, pid in self.state.get("pids", {}).items():
            _stop(pid, name)
        self.state_file.unlink()

    # -- helpers ----------------------------------------------------------------

    def _save(self, state: dict[str, t.Any]) -> None:
        self.state_file.write_text(json.dumps(state, indent=2))

    def _spawn(self, argv: list[str], name: str, *, env: dict[str, str] | None = None) -> int:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        repo_root = Path(__file__).resolve().parents[2]
        env = dict(os.environ, PYTHONPATH=str(repo_root), **(env or {}))
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=repo_root,
            env=env,
        )
        log.close()
        return process.pid

    def _wait_for_file(self, path: Path, timeout: float = 20.0) -> dict[str, t.Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size:
                return json.loads(path.read_text())
            time.sleep(0.05)
        raise RuntimeError(f"kit servers did not start; see {self.dir / 'servers.log'}")

    def _wait_https(self, url: str, ca: str, name: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                requests.get(url, verify=ca, timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer on {url}; see {self.dir / (name + '.log')}")

    def _write_vars(self, state: dict[str, t.Any]) -> None:
        """Ansible variables for playbooks that run against the kit (demo, molecule, tests)."""
        kit_vars = {f"kit_{key}": value for key, value in state.items() if key not in ("pids", "dir")}
        (self.dir / "vars.json").write_text(json.dumps(kit_vars, indent=2))


def _stop(pid: int, name: str, timeout: float = 10.0) -> None:
    """Stop the process group led by ``pid`` (started with start_new_session)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished = os.waitpid(pid, os.WNOHANG)[0]
        except ChildProcessError:
            finished = pid if not _alive(pid) else 0
        if finished:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
