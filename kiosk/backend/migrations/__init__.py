"""Alembic migrations of the backend database, applied at every start."""
