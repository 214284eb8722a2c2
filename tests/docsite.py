"""The guides in docs/*.md as reStructuredText in docs/docsite/rst/, for the collection's docs site (antsibull-docs).

    .venv/bin/python -m tests.docsite          # write them
    .venv/bin/python -m tests.docsite --check  # exit 1 if they are out of date (make test runs it)

Only the Markdown the guides use is converted: headings, paragraphs, lists, fenced code, pipe tables, inline code,
bold, links (to other guides they become references).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
OUT = DOCS / "docsite" / "rst"
PREFIX = "ansible_collections.tagscope.registry.docsite."
UNDERLINES = {1: "=", 2: "-", 3: "~"}


def inline(text: str) -> str:
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"``{part[1:-1]}``")
            continue
        out.append(re.sub(r"\[([^\]]+)\]\(([^)]+)\)", _link, part))
    return "".join(out)


def _link(match: re.Match[str]) -> str:
    text, target = match.group(1), match.group(2)
    guide = re.fullmatch(r"(?:\.\./)?(?:docs/)?([\w-]+)\.md", target)
    if guide and (DOCS / f"{guide.group(1)}.md").exists():
        return f":ref:`{text} <{PREFIX}{guide.group(1)}>`"
    if not re.match(r"https?://", target):
        target = f"https://github.com/tagscope/registry/blob/main/{target.lstrip('./')}"
    return f"`{text} <{target}>`__"


def table(rows: list[str]) -> list[str]:
    cells = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]
    body = [row for row in cells if not all(re.fullmatch(r":?-+:?", cell) for cell in row)]
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in body:
        for index, cell in enumerate(row):
            out.append(f"   {'* -' if index == 0 else '  -'} {inline(cell) or ' '}")
    return [*out, ""]


def convert(name: str, markdown: str) -> str:
    lines = markdown.splitlines()
    out = [f".. _{PREFIX}{name}:", ""]
    text: list[str] = []  # plain lines, converted together: inline code may run over a line break

    def flush() -> None:
        if text:
            out.extend(inline("\n".join(text)).split("\n"))
            text.clear()

    index = 0
    while index < len(lines):
        line = lines[index]
        heading = re.match(r"(#{1,3}) (.*)", line)
        if line.startswith("```"):
            flush()
            language = line[3:].strip() or "text"
            language = "text" if language == "mermaid" else language
            index += 1
            block = []
            while index < len(lines) and not lines[index].startswith("```"):
                block.append(lines[index])
                index += 1
            out += [f".. code-block:: {language}", ""] + [f"  {code}" if code else "" for code in block] + [""]
        elif heading:
            flush()
            title = inline(heading.group(2))
            out += [title, UNDERLINES[len(heading.group(1))] * len(title), ""]
        elif line.startswith("|"):
            flush()
            rows = []
            while index < len(lines) and lines[index].startswith("|"):
                rows.append(lines[index])
                index += 1
            out += table(rows)
            continue
        elif not line.strip():
            flush()
            out.append("")
        else:
            # A list needs a blank line before it in reStructuredText.
            if line.startswith("- ") and text and not text[-1].startswith(("- ", "  ")):
                flush()
                out.append("")
            text.append(line)
        index += 1
    flush()
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for path in sorted(DOCS.glob("*.md")):
        target = OUT / f"{path.stem}.rst"
        text = convert(path.stem, path.read_text())
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target.relative_to(REPO)))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    if stale:
        print("out of date (run .venv/bin/python -m tests.docsite): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
