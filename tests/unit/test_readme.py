"""README.md follows Automation Hub's collection README template.

Automation Hub and Galaxy show the README away from the repository, where a relative link leads nowhere: every
link is a full URL, and those into this repository name a file or folder that exists. The template's sections
come in its order, and the action group's ``module_defaults`` example names a group the collection has.
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
RUNTIME = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
SECTIONS = [
    "Description",
    "Requirements",
    "Installation",
    "Use Cases",
    "Testing",
    "Contributing",
    "Support",
    "Release Notes and Roadmap",
    "Related Information",
    "License Information",
]


def _prose(markdown: str) -> str:
    """The README without its fenced code blocks (a ``[x](y)`` inside code is no link)."""
    return re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)


def link_targets(markdown: str) -> list[str]:
    prose = _prose(markdown)
    inline = re.findall(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)", prose)
    references = re.findall(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?\s*$", prose, flags=re.M)
    html = re.findall(r"""(?:href|src)\s*=\s*["']([^"']+)""", prose)
    return inline + references + html


def headings(markdown: str, level: int) -> list[str]:
    return re.findall(rf"^{'#' * level} (.+?)\s*$", _prose(markdown), flags=re.M)


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("[a](docs/a.md) and [b](https://x.example/b)", ["docs/a.md", "https://x.example/b"]),
        ("![logo](./logo.png)", ["./logo.png"]),
        ("[a]: ../LICENSE\n", ["../LICENSE"]),
        ('<a href="CHANGELOG.rst">notes</a>', ["CHANGELOG.rst"]),
        ("```\n[not](a-link)\n```\n", []),
    ],
)
def test_links_are_found(markdown: str, expected: list[str]) -> None:
    # The checks below are only as good as the link finder: it must see every kind of link Markdown has.
    assert link_targets(markdown) == expected


def test_every_link_is_a_full_url() -> None:
    targets = link_targets(README)
    assert len(targets) > 10
    relative = [target for target in targets if not re.match(r"https?://", target)]
    assert relative == []


def test_links_into_the_repository_name_what_exists() -> None:
    files = re.escape(GALAXY["repository"].rstrip("/")) + r"/(?:blob|tree)/main/([^#?]+)"
    inside = [match.group(1) for target in link_targets(README) if (match := re.match(files, target))]
    assert len(inside) > 10, "the README links to the repository's files by their full URL"
    missing = [path for path in inside if not (REPO / path).exists()]
    assert missing == []


def test_sections_follow_the_certification_template() -> None:
    assert headings(README, 1) == ["tagscope.registry"]
    assert headings(README, 2) == SECTIONS


def test_module_defaults_example_uses_the_action_group() -> None:
    blocks = re.findall(r"^```yaml\n(.*?)^```", README, flags=re.M | re.S)
    groups = [
        group
        for block in blocks
        for item in yaml.safe_load(block)
        if isinstance(item, dict)
        for group in item.get("module_defaults") or {}
    ]
    namespace, name = GALAXY["namespace"], GALAXY["name"]
    assert groups == [f"group/{namespace}.{name}.registry"]
    assert "image_tags" in RUNTIME["action_groups"]["registry"]


def test_the_two_commands_are_kept() -> None:
    # CI runs make test and users start with make demo: the README names both, with what they do.
    testing = README.split("## Testing", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^make demo +# .*playbooks/demo\.yml", testing, flags=re.M)
    assert re.search(r"^make test +# .*lint.*integration.*release checks", testing, flags=re.M)
