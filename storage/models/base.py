"""The declarative base, two helpers for bulk statements, and one for the moments read back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Table,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> Table:
    """A model's Table, for bulk statements (SQLAlchemy types `__table__` as a FromClause)."""
    found = model.__table__
    assert isinstance(found, Table)
    return found


def as_utc(moment: datetime) -> datetime:
    """A moment read back, with its zone: SQLite gives none, and every moment is stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a CursorResult)."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)
