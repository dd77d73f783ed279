"""What the fuzzer's parts share: its settings, its token, and Telegram's limits."""

from __future__ import annotations

import os
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

JSON = dict[str, Any]
T = TypeVar("T")

EXAMPLES = int(os.environ.get("AGORA_FUZZ_EXAMPLES", "12"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not os.environ.get("AGORA_FUZZ_RANDOM"),
        database=None,  # no example database: a derandomized run needs none
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # new_database makes one database an example
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# Not the other tests' token: a bot process another test left behind, which may find this
# test's server on the port it used, is refused rather than served.
TOKEN = "987654321:AAFuzzingTokenForTestsOnly0123456789abcd"
SORRY = ("Désolé, une erreur s’est produite", "Sorry, something went wrong")
MAX_ID = 2**52 - 1  # Telegram's ids have at most 52 significant bits
TEXT_LIMIT = 4096  # what a person can send, in UTF-16 code units
WHITESPACE = " \t\n\r\x0b\x0c"  # what Telegram trims around a message


