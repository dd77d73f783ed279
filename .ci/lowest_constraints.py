"""Print pip constraints pinning each direct dependency to the lowest version pyproject.toml
allows (its `>=` or `==` floor), for CI's run against the oldest supported versions."""

import re
import tomllib
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
FLOOR = re.compile(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*(?:==|>=)\s*([0-9][^,<;\s]*)")

for requirement in tomllib.loads(PROJECT.read_text())["project"]["dependencies"]:
    found = FLOOR.match(requirement)
    if found:
        print(f"{found[1]}=={found[2]}")
