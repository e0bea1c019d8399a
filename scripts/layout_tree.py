"""Print kiosk/'s layout as docs/ARCHITECTURE.md shows it: one line per module, from its docstring.

`python scripts/layout_tree.py --write` puts it into docs/ARCHITECTURE.md between the
"## Layout as built" heading's code fence; tests/contract/test_house_rules.py checks it is current.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIOSK = ROOT / "kiosk"
DOC = ROOT / "docs" / "ARCHITECTURE.md"
NAME_WIDTH = 35
SUMMARY_WIDTH = 64
SENTENCE_END = re.compile(r"\. ")


def summary(path: Path) -> str:
    """The docstring's first sentence, cut at a word to fit one line."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    first = SENTENCE_END.split(first, maxsplit=1)[0].rstrip(".")
    if len(first) > SUMMARY_WIDTH:
        first = first[: SUMMARY_WIDTH - 1].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return first


def lines(folder: Path, depth: int) -> list[str]:
    out = []
    indent = "  " * depth
    for path in sorted(p for p in folder.glob("*.py") if p.name != "__init__.py"):
        out.append(f"{indent}{path.name:<{NAME_WIDTH - len(indent)}}{summary(path)}".rstrip())
    for sub in sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file()):
        text = f"{indent}{sub.name + '/':<{NAME_WIDTH - len(indent)}}{summary(sub / '__init__.py')}"
        out.append(text.rstrip())
        out.extend(lines(sub, depth + 1))
    return out


def tree() -> str:
    return "\n".join(["kiosk/", *lines(KIOSK, 1)]) + "\n"


def with_tree(doc: str) -> str:
    """The document with the layout block replaced by the current tree."""
    head, rest = doc.split("## Layout as built", 1)
    before, _, after = rest.partition("```\nkiosk/\n")
    _, _, after = after.partition("```\n")
    return f"{head}## Layout as built{before}```\n{tree()}```\n{after}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(with_tree(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stdout.write(tree())
