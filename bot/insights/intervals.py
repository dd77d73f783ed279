"""Honest numbers: Wilson intervals for shares, and whether a lead is real or within the noise.

Pure functions of counts (no I/O, no translation), shared by /results, the digest and its chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95 % interval
SMALL_SAMPLE = 10  # under this many voters, shares say little whatever their gap


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a share `successes / trials` (95 % by default).

    Unlike the textbook "p ± 1.96·√(p(1-p)/n)", it stays within [0, 1] and is not empty at
    0 % or 100 %, which matter here: small groups often have an option nobody chose.
    """
    if trials <= 0:
        return 0.0, 1.0
    p = min(max(successes / trials, 0.0), 1.0)
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


class Reading(Enum):
    NO_VOTES = "no votes"
    SMALL_SAMPLE = "small sample"  # fewer than SMALL_SAMPLE voters
    TOO_CLOSE = "too close"  # the two leading options' intervals overlap
    LEADER = "leader"  # the leading option's interval is clear of the runner-up's


@dataclass(frozen=True, slots=True)
class Lead:
    """What can honestly be said about who leads a question."""

    reading: Reading
    voters: int
    first: int | None = None  # the leading option (most votes; ties: the article's order)
    second: int | None = None  # the runner-up (a question has at least two options)
    interval: tuple[float, float] = (0.0, 1.0)  # the leader's 95 % interval


def read_lead(voters: int, votes: dict[int, int], options: int) -> Lead:
    """Name a leader only when its 95 % interval does not overlap the runner-up's.

    The runner-up is the second most chosen of the `options`, even with no vote: an option
    nobody chose still has an interval above 0 %."""
    ranking = sorted(range(options), key=lambda i: (-votes.get(i, 0), i))
    if voters <= 0 or not ranking or votes.get(ranking[0], 0) <= 0:
        return Lead(Reading.NO_VOTES, max(voters, 0))
    first = ranking[0]
    second = ranking[1] if len(ranking) > 1 else None
    interval = wilson(votes[first], voters)
    if voters < SMALL_SAMPLE:
        return Lead(Reading.SMALL_SAMPLE, voters, first, second, interval)
    if second is not None and interval[0] <= wilson(votes.get(second, 0), voters)[1]:
        return Lead(Reading.TOO_CLOSE, voters, first, second, interval)
    return Lead(Reading.LEADER, voters, first, second, interval)


def proportion_z(c1: float, n1: float, c2: float, n2: float) -> float | None:
    """The two-proportion z statistic of c1/n1 against c2/n2 (pooled), or None when it has no
    meaning (an empty group, or no spread at all)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (c1 + c2) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return (c1 / n1 - c2 / n2) / spread if spread > 0 else None
