"""Loads the .kv file that sits beside a screen's or widget's .py file, once."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

LOADED: list[str] = []


def load_kv(py_file: str) -> None:
    path = str(Path(py_file).with_suffix(".kv"))
    if path not in LOADED:
        Builder.load_file(path)
        LOADED.append(path)


def unload_all() -> None:
    """Tests build several Apps in one process: drop the rules or they pile up."""
    while LOADED:
        Builder.unload_file(LOADED.pop())
