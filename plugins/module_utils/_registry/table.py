# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The table of shared options: each option is declared here once, and only here.

The module's argument spec, the lookup's option reading, the options objects of the core (``ClientOptions``,
``QueryOptions``, ``Selection``), their defaults and the role's pass-through are derived from this table; the doc
fragments and the role's argument spec are checked against it field by field by ``tests/unit``.

This file imports nothing from the rest of the core, so every room of the core can read its defaults.
"""

from __future__ import annotations

import difflib
import typing as t
from dataclasses import dataclass

# The faces that take an option: the module (and its action plugin), the lookup, the tag_gate role (as
# ``tag_gate_<name>``) and the Event-Driven Ansible source.
MODULE = "module"
LOOKUP = "lookup"
ROLE = "role"
EVENTS = "events"

# Where an option goes in the core: ClientOptions (how to reach registries), QueryOptions (what to ask of each
# image), Policy (what an image must say about itself), Selection (which tags, in which order), or the runner
# itself (what it warns about).
CLIENT = "client"
QUERY = "query"
POLICY = "policy"
SELECTION = "selection"
RUNNER = "runner"

# Where an option is documented: the doc fragment tagscope.registry.connection or tagscope.registry.selection, or
# the module's own DOCUMENTATION for an option only the module takes.
CONNECTION_DOCS = "connection"
SELECTION_DOCS = "selection"
MODULE_DOCS = "module"

ENV_PREFIX = "TAGSCOPE_REGISTRY_"
# The lookup also reads a connection option from the variable ``tagscope_registry_<name>``.
VARIABLE_PREFIX = "tagscope_registry_"
# The role takes an option as ``tag_gate_<name>``.
ROLE_PREFIX = "tag_gate_"


@dataclass(frozen=True)
class Option:
    """One shared option, with every fact about it that more than one place needs."""

    name: str
    goes_to: str
    docs: str
    type: str = "str"
    default: t.Any = None
    aliases: tuple[str, ...] = ()
    # True for secrets; False for names that only look like one (auth_file), so that nobody adds it; None: neither.
    no_log: bool | None = None
    # Read from TAGSCOPE_REGISTRY_<NAME> when not set (the module by env_fallback, the lookup by its env: entry).
    env: bool = False
    choices: tuple[str, ...] | None = None
    elements: str | None = None
    faces: frozenset[str] = frozenset({MODULE, LOOKUP})

    @property
    def env_name(self) -> str | None:
        return ENV_PREFIX + self.name.upper() if self.env else None

    @property
    def variable(self) -> str | None:
        """The variable the lookup reads it from, besides its keyword (connection options only)."""
        return VARIABLE_PREFIX + self.name if self.docs == CONNECTION_DOCS else None

    @property
    def role_variable(self) -> str | None:
        return ROLE_PREFIX + self.name if ROLE in self.faces else None


# Connection options: every face; the role passes some of them on.
_CONNECTION_FACES = frozenset({MODULE, LOOKUP, EVENTS})
_ROLE_TOO = _CONNECTION_FACES | {ROLE}
# Tag selection the event source applies too.
_WATCHED = frozenset({MODULE, LOOKUP, EVENTS})
# Gating: the module, the lookup and the role.
_GATE = frozenset({MODULE, LOOKUP, ROLE})


def _connection(name: str, faces: frozenset[str] = _CONNECTION_FACES, **fields: t.Any) -> Option:
    return Option(name, goes_to=CLIENT, docs=CONNECTION_DOCS, faces=faces, **fields)


def _selection(name: str, goes_to: str = SELECTION, **fields: t.Any) -> Option:
    return Option(name, goes_to=goes_to, docs=SELECTION_DOCS, **fields)


OPTIONS: tuple[Option, ...] = (
    # Who to be.
    _connection("username", env=True, faces=_ROLE_TOO),
    _connection("password", no_log=True, env=True, faces=_ROLE_TOO),
    _connection("token", no_log=True, env=True),
    _connection("auth_registry", env=True, faces=_ROLE_TOO),
    _connection("auth_file", type="path", no_log=False, aliases=("authfile",)),
    # How to reach registries.
    _connection("validate_certs", type="bool", default=True, env=True, aliases=("tls_verify",), faces=_ROLE_TOO),
    _connection("ca_path", type="path", env=True, aliases=("ca_cert",), faces=_ROLE_TOO),
    _connection("timeout", type="float", default=30.0, env=True, faces=_ROLE_TOO),
    # Requests in flight at once to one registry; 1 asks one image after the other.
    _connection("concurrency", type="int", default=8),
    _connection("page_size", type="int"),
    _connection("retries", type="int", default=4),
    _connection("retry_max_wait", type="float", default=60.0),
    # Registries (host[:port]) spoken to over plain HTTP, like docker's insecure-registries.
    _connection("http_registries", type="list", elements="str", default=[]),
    # Registry -> the pull-through mirrors asked before it, in order (mirrors.py).
    _connection("mirrors", type="dict", faces=_ROLE_TOO),
    # Stop before a registry's pull budget (RateLimit-Remaining) falls below this.
    _connection("min_remaining", type="int", faces=_ROLE_TOO),
    # Which tags, in which order. include/exclude are raw: a list, or one pattern as a string (type list would
    # split it at commas).
    _selection("include", type="raw", faces=_WATCHED),
    _selection("exclude", type="raw", faces=_WATCHED),
    _selection("constraint", faces=_WATCHED),
    _selection("prereleases", type="bool", default=False, faces=_WATCHED),
    _selection("sort", default="version", choices=("version", "lexical", "none")),
    _selection("reverse", type="bool", default=False),
    _selection("limit", type="int"),
    # Tags that name a digest (sha256-<hex>[.sig|.att|.sbom]) are cosign's, not versions.
    _selection("digest_tags", type="bool", default=False, faces=_WATCHED),
    # What to ask of each image, and when to fail.
    _selection("fail_on_missing", QUERY, type="bool", default=False),
    _selection("wait_timeout", QUERY, type="float", default=0.0, faces=_GATE),
    _selection("wait_interval", QUERY, type="float", default=10.0, faces=_GATE),
    _selection("platforms", QUERY, type="list", elements="str", faces=_GATE),
    _selection("allow_moved", QUERY, type="bool", default=False, faces=_GATE),
    # What an image says about itself, and what it must say to pass the gate.
    Option("inspect", goes_to=POLICY, docs=MODULE_DOCS, type="bool", default=False, faces=frozenset({MODULE})),
    _selection("signed_by", POLICY, type="list", elements="str", no_log=False, faces=_GATE),
    _selection(
        "require_attestations", POLICY, type="list", elements="str", choices=("sbom", "provenance"), faces=_GATE
    ),
    _selection("require_labels", POLICY, type="dict", faces=_GATE),
    _selection("min_age", POLICY, type="raw", faces=_GATE),
    _selection("max_age", POLICY, type="raw", faces=_GATE),
    # Warn when a registry says fewer pulls than this remain in its window.
    _selection("rate_limit_warning", RUNNER, type="int", default=10),
)

OPTION: dict[str, Option] = {option.name: option for option in OPTIONS}


def default(name: str) -> t.Any:
    """The default of option ``name``, from the table (a list default is a new list each time)."""
    value = OPTION[name].default
    return list(value) if isinstance(value, list) else value


def names(*, goes_to: str | None = None, face: str | None = None) -> tuple[str, ...]:
    """The names of the options that go to ``goes_to`` and that ``face`` takes, in table order."""
    return tuple(
        option.name
        for option in OPTIONS
        if (goes_to is None or option.goes_to == goes_to) and (face is None or face in option.faces)
    )


def unknown_names(what: str, unknown: t.Sequence[str], known: t.Iterable[str], *, who: str) -> str:
    """``<who>: unknown option 'contraint' (did you mean 'constraint'?); the options are ...``: a misspelt name
    names the one meant."""
    choices = sorted(known)
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, choices, n=1)
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    plural = "s" if len(unknown) > 1 else ""
    return f"{who}: unknown {what}{plural} {', '.join(parts)}; the {what}s are {', '.join(choices)}"
