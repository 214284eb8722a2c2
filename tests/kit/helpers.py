"""Credential helpers and config files written by tests, following docker's protocols."""

from __future__ import annotations

import base64
import json
import sys
import typing as t
from pathlib import Path

_HELPER = """#!{python}
# docker-credential-{name}, written by the tagscope.registry tests: answers `get` from a JSON file.
import json, pathlib, sys
if sys.argv[1:] != ["get"]:
    sys.exit(2)
server = sys.stdin.read()
with open({log!r}, "a") as log:
    log.write(server + "\\n")
behaviour = json.loads(pathlib.Path({answers!r}).read_text())
mode = behaviour.get("mode", "answer")
if mode == "fail":
    sys.stderr.write("helper broke; secret was " + behaviour.get("leak", "") + "\\n")
    sys.exit(3)
if mode == "garbage":
    print("this is not JSON " + behaviour.get("leak", ""))
    sys.exit(0)
answer = behaviour.get("servers", {{}}).get(server)
if answer is None:
    print("credentials not found in native keychain")
    sys.exit(1)
print(json.dumps(answer))
"""


class Helper:
    """``<bin>/docker-credential-<name>``; ``calls`` lists the server URLs it was asked for."""

    def __init__(self, directory: Path, name: str = "kittest") -> None:
        self.bin = directory / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.answers = directory / f"{name}-answers.json"
        self.log = directory / f"{name}-calls.log"
        self.answers.write_text("{}")
        path = self.bin / f"docker-credential-{name}"
        path.write_text(_HELPER.format(python=sys.executable, name=name, log=str(self.log), answers=str(self.answers)))
        path.chmod(0o755)

    def answer(self, servers: dict[str, dict[str, str]] | None = None, **behaviour: t.Any) -> None:
        self.answers.write_text(json.dumps({"servers": servers or {}, **behaviour}))

    @property
    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


def basic_auth(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def write_config(path: Path, config: dict[str, t.Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path
