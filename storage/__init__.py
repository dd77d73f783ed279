"""Persistence: SQLAlchemy models, the engine and session factory, queries and migrations."""
