"""Opinion groups, Pol.is-style: voters clustered by their answers (bot.clustering, on
one-hot answers), what sets each group apart, what every group shares, and the question that
divides them most."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.clustering import MIN_GROUP, cluster
from bot.insights import Z95, proportion_z

MIN_VOTERS = 20  # voters who answered at least half of the questions
SEED = 11  # the same votes always make the same groups
WEAK_SILHOUETTE = 0.25  # below this, groups overlap a lot: tendencies rather than camps
DISTINCTIVE = 3  # answers shown per group
MAJORITY = 0.5

Matrix = npt.NDArray[np.float64]


@dataclass(slots=True)
class Ballots:
    """Every voter's answers: `chosen[v, offset[q] + o]` is 1 when voter v chose option o of
    question q; `answered[v, q]` whether v answered q."""

    chosen: npt.NDArray[np.uint8]
    answered: npt.NDArray[np.bool_]
    offsets: list[int]  # first column of each question, then the total

    @classmethod
    def collect(
        cls, options: Sequence[int], voters: Sequence[dict[int, list[int]]]
    ) -> Ballots:
        """From each voter's {question index: chosen options}."""
        builder = BallotsBuilder(options)
        for voter, answers in enumerate(voters):
            for question, picked in answers.items():
                builder.add(voter, question, picked)
        return builder.build()

    @property
    def questions(self) -> int:
        return len(self.offsets) - 1

    def eligible(self) -> npt.NDArray[np.bool_]:
        """Voters who answered at least half of the questions."""
        half = math.ceil(self.questions / 2)
        return np.asarray(self.answered.sum(axis=1) >= half)

    def features(self) -> Matrix:
        """One-hot answers; an unanswered question takes the average answers of those who
        answered it, so that it pulls towards no group."""
        features = self.chosen.astype(np.float64)
        for q in range(self.questions):
            columns = slice(self.offsets[q], self.offsets[q + 1])
            answered = self.answered[:, q]
            if answered.any() and not answered.all():
                features[~answered, columns] = features[answered, columns].mean(axis=0)
        return features


class BallotsBuilder:
    """Collects (voter, question, options) rows ordered by voter into `Ballots`: flat lists
    of indexes rather than a dict per voter. A voter's later answer to the same question (in
    another chat) replaces the earlier one."""

    def __init__(self, options: Sequence[int]) -> None:
        self._options = list(options)
        self._offsets = [0]
        for count in options:
            self._offsets.append(self._offsets[-1] + count)
        self._voter: object = None
        self._current: dict[int, list[int]] = {}
        self._rows = 0
        self._chosen_rows: list[int] = []
        self._chosen_columns: list[int] = []
        self._answered_rows: list[int] = []
        self._answered_questions: list[int] = []

    def add(self, voter: object, question: int, options: list[int]) -> None:
        if voter != self._voter:
            self._flush()
            self._voter = voter
        valid = [o for o in options if 0 <= o < self._options[question]]
        if valid:
            self._current[question] = valid

    def _flush(self) -> None:
        if not self._current:
            return
        row = self._rows
        self._rows += 1
        for question, options in self._current.items():
            self._answered_rows.append(row)
            self._answered_questions.append(question)
            self._chosen_rows += [row] * len(options)
            self._chosen_columns += [self._offsets[question] + o for o in options]
        self._current = {}

    def build(self) -> Ballots:
        self._flush()
        chosen = np.zeros((self._rows, self._offsets[-1]), dtype=np.uint8)
        chosen[self._chosen_rows, self._chosen_columns] = 1
        answered = np.zeros((self._rows, len(self._options)), dtype=np.bool_)
        answered[self._answered_rows, self._answered_questions] = True
        return Ballots(chosen, answered, self._offsets)


@dataclass(frozen=True, slots=True)
class Distinctive:
    question: int
    option: int
    share: float  # in the group, among its members who answered the question
    others: float  # among the other voters who answered it


@dataclass(frozen=True, slots=True)
class Group:
    size: int
    distinctive: list[Distinctive]  # empty for a group under MIN_GROUP (not described)

    @property
    def described(self) -> bool:
        return self.size >= MIN_GROUP


@dataclass(frozen=True, slots=True)
class Consensus:
    question: int
    option: int
    lowest: float  # the smallest share among the groups
    highest: float


@dataclass(frozen=True, slots=True)
class Division:
    question: int
    option: int
    shares: list[float]  # per described group, in the groups' order


@dataclass(frozen=True, slots=True)
class OpinionGroups:
    voters: int
    groups: list[Group]  # largest first
    consensus: list[Consensus]
    division: Division | None
    silhouette: float

    @property
    def weak(self) -> bool:
        return self.silhouette < WEAK_SILHOUETTE


def _significant(c1: float, n1: float, c2: float, n2: float) -> bool:
    z = proportion_z(c1, n1, c2, n2)
    return z is not None and abs(z) >= Z95


def describe(ballots: Ballots, seed: int = SEED) -> OpinionGroups | None:
    """The opinion groups of the eligible voters, or None below MIN_VOTERS of them."""
    keep = ballots.eligible()
    voters = int(keep.sum())
    if voters < MIN_VOTERS:
        return None
    chosen = ballots.chosen[keep].astype(np.float64)
    answered = ballots.answered[keep]
    subset = Ballots(ballots.chosen[keep], answered, ballots.offsets)
    labels, score = cluster(subset.features(), subset.chosen, np.random.default_rng(seed))
    k = int(labels.max()) + 1
    # Per group and option: how many chose it, and how many answered its question.
    question_of = np.repeat(np.arange(ballots.questions), np.diff(ballots.offsets))
    picked = np.stack([chosen[labels == g].sum(axis=0) for g in range(k)])
    asked = np.stack([answered[labels == g].sum(axis=0)[question_of] for g in range(k)])
    sizes = np.bincount(labels, minlength=k)
    # "The others" are the other described groups: a group too small to be described must
    # not be described by difference either.
    described = [g for g in range(k) if sizes[g] >= MIN_GROUP]
    groups = []
    for g in range(k):
        if sizes[g] < MIN_GROUP:
            groups.append(Group(int(sizes[g]), []))
            continue
        found = []
        for column in range(len(question_of)):
            c1, n1 = picked[g, column], asked[g, column]
            c2 = picked[described, column].sum() - c1
            n2 = asked[described, column].sum() - n1
            if n1 and n2 and c1 / n1 > c2 / n2 and _significant(c1, n1, c2, n2):
                found.append((c1 / n1 - c2 / n2, column, c1 / n1, c2 / n2))
        found.sort(key=lambda f: (-f[0], f[1]))
        groups.append(
            Group(
                int(sizes[g]),
                [
                    Distinctive(
                        int(question_of[c]), int(c - ballots.offsets[question_of[c]]), p, q
                    )
                    for _, c, p, q in found[:DISTINCTIVE]
                ],
            )
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = picked[described] / asked[described]
    consensus = []
    division = None
    if len(described) >= 2 and shares.size:
        for column in range(len(question_of)):
            column_shares = shares[:, column]
            if np.all(np.isfinite(column_shares)) and column_shares.min() > MAJORITY:
                question = int(question_of[column])
                consensus.append(
                    Consensus(
                        question,
                        int(column - ballots.offsets[question]),
                        float(column_shares.min()),
                        float(column_shares.max()),
                    )
                )
        # Options of questions every described group answered: the widest gap between groups.
        known = np.all(np.isfinite(shares), axis=0)
        filled = np.where(known, shares, 0.0)
        gaps = np.where(known, filled.max(axis=0) - filled.min(axis=0), -1.0)
        if gaps.max() > 0:
            column = int(gaps.argmax())
            question = int(question_of[column])
            division = Division(
                question,
                column - ballots.offsets[question],
                [float(s) for s in shares[:, column]],
            )
    consensus.sort(key=lambda c: -c.lowest)
    return OpinionGroups(voters, groups, consensus, division, score)
