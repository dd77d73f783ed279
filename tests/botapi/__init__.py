"""A fake Telegram Bot API server for tests and benchmarks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.botapi.server import FakeBotAPI

__all__ = ["FakeBotAPI"]


def __getattr__(name: str) -> Any:
    # Imported lazily so ``python -m tests.botapi.server`` runs the module only once.
    if name == "FakeBotAPI":
        from tests.botapi.server import FakeBotAPI

        return FakeBotAPI
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
