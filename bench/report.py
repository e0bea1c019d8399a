"""Writes one benchmark's section of docs/benchmarks.md, leaving the other sections alone."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(text: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section whose '## ' heading is the first line of `text`."""
    heading = text.splitlines()[0].strip()
    if not heading.startswith("## "):
        raise ValueError("a section starts with its '## ' heading")
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        updated = "".join(lines[:start]) + text + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated, encoding="utf-8")
