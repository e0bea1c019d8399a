"""Helpers shared by test areas (importable as `support.*`: tests/ is on pytest's pythonpath)."""
