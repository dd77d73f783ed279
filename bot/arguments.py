"""Reading what people type after a command, and what buttons carry: strict patterns only.

`str.isdigit()` accepts "²" and other digits `int()` refuses, and Python's `\\d` accepts every
script's digits: a number here is ASCII digits, nothing else.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"[0-9]{1,18}")


def number(text: str) -> int | None:
    """A non-negative whole number written with ASCII digits, else None."""
    return int(text) if _NUMBER.fullmatch(text) else None
