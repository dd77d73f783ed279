"""Opinion groups, Pol.is-style: voters clustered by their answers (bot.insights.clustering, on
one-hot answers), what sets each group apart, what every group shares, and the question that
divides them most."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.insights.clustering import MIN_GROUP, cluster
from bot.insights.intervals import Z95, proportion_z

MIN_VOTERS = 20  # voters who answered at least half of the questions
SEED = 11  # the same votes always make the same groups
WEAK_SILHOUETTE = 0.25  # below this, groups overlap a lot: tendencies rather than camps
DISTINCTIVE = 3  # answers shown per group
MAJORITY = 0.5

Matrix = npt.NDArray[np.float64]


@dataclass(slots=True)
class Ballots:
    """Voters' answers, a row for each set of answers that `weights[r]` voters gave (one voter
    a row, or each distinct set once): `chosen[r, offsets[q] + o]` is 1 when option o of
    question q was chosen; `answered[r, q]` whether q was answered."""

    chosen: npt.NDArray[np.uint8]
    answered: npt.NDArray[np.bool_]
    offsets: list[int]  # first column of each question, then the total
    weights: npt.NDArray[np.int64]

    @classmethod
    def collect(
        cls, options: Sequence[int], voters: Sequence[dict[int, list[int]]]
    ) -> Ballots:
        """A row for each voter, from their {question index: chosen options}; options a
        question does not have are left out, and a question left with none is unanswered."""
        offsets = _offsets(options)
        rows = []
        for answers in voters:
            valid = {
                question: [o for o in picked if 0 <= o < options[question]]
                for question, picked in answers.items()
            }
            if row := {question: picked for question, picked in valid.items() if picked}:
                rows.append(row)
        chosen = np.zeros((len(rows), offsets[-1]), dtype=np.uint8)
        answered = np.zeros((len(rows), len(options)), dtype=np.bool_)
        for r, row in enumerate(rows):
            for question, picked in row.items():
                answered[r, question] = True
                chosen[r, [offsets[question] + o for o in picked]] = 1
        return cls(chosen, answered, offsets, np.ones(len(rows), dtype=np.int64))

    @classmethod
    def of_patterns(cls, options: Sequence[int], patterns: Sequence[tuple[int, int]]) -> Ballots:
        """From (set of answers, voters) pairs, a set of answers being an integer whose bit
        offsets[q] + o is set when option o of question q was chosen (storage.insights)."""
        offsets = _offsets(options)
        size = (offsets[-1] + 7) // 8
        raw = b"".join(pattern.to_bytes(size, "little") for pattern, _ in patterns)
        bits = np.unpackbits(
            np.frombuffer(raw, dtype=np.uint8).reshape(len(patterns), size),
            axis=1,
            bitorder="little",
        )
        chosen = np.ascontiguousarray(bits[:, : offsets[-1]])
        answered = np.stack(
            [chosen[:, offsets[q] : offsets[q + 1]].any(axis=1) for q in range(len(options))],
            axis=1,
        )
        weights = np.array([voters for _, voters in patterns], dtype=np.int64)
        return cls(chosen, answered, offsets, weights)

    @property
    def questions(self) -> int:
        return len(self.offsets) - 1

    def eligible(self) -> npt.NDArray[np.bool_]:
        """Rows of voters who answered at least half of the questions."""
        half = math.ceil(self.questions / 2)
        return np.asarray(self.answered.sum(axis=1) >= half)

    def eligible_voters(self) -> int:
        return int(self.weights[self.eligible()].sum())

    def features(self) -> Matrix:
        """One-hot answers; an unanswered question takes the average answers of those who
        answered it, so that it pulls towards no group."""
        features = self.chosen.astype(np.float64)
        for q in range(self.questions):
            columns = slice(self.offsets[q], self.offsets[q + 1])
            answered = self.answered[:, q]
            if answered.any() and not answered.all():
                features[~answered, columns] = np.average(
                    features[answered, columns], axis=0, weights=self.weights[answered]
                )
        return features


def _offsets(options: Sequence[int]) -> list[int]:
    offsets = [0]
    for count in options:
        offsets.append(offsets[-1] + count)
    return offsets


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
    # The group of each row of the ballots described (-1: a voter who answered too little).
    labels: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))

    @property
    def weak(self) -> bool:
        return self.silhouette < WEAK_SILHOUETTE


def _significant(c1: float, n1: float, c2: float, n2: float) -> bool:
    z = proportion_z(c1, n1, c2, n2)
    return z is not None and abs(z) >= Z95


@dataclass(frozen=True, slots=True)
class _Counts:
    """Per group (rows) and option (columns): how many chose it (`picked`) and how many
    answered its question (`asked`); sums of whole numbers, exact whatever their order."""

    picked: Matrix
    asked: Matrix
    sizes: npt.NDArray[np.int64]
    question_of: npt.NDArray[np.int64]  # each column's question
    offsets: list[int]

    def option(self, column: int) -> tuple[int, int]:
        """The (question, option) of a column."""
        question = int(self.question_of[column])
        return question, int(column - self.offsets[question])


def _counts(subset: Ballots, labels: npt.NDArray[np.int64]) -> _Counts:
    k = int(labels.max()) + 1
    question_of = np.repeat(np.arange(subset.questions), np.diff(subset.offsets))
    members = np.zeros((k, len(labels)))
    members[labels, np.arange(len(labels))] = subset.weights
    picked = members @ subset.chosen.astype(np.float64)
    asked = (members @ subset.answered.astype(np.float64))[:, question_of]
    sizes = members.sum(axis=1).astype(np.int64)
    return _Counts(picked, asked, sizes, question_of, subset.offsets)


def _group(counts: _Counts, g: int, described: list[int]) -> Group:
    """Group `g`, with the answers it chose significantly more than the other described
    groups (a group too small to be described must not be described by difference
    either)."""
    size = int(counts.sizes[g])
    if size < MIN_GROUP:
        return Group(size, [])
    picked, asked = counts.picked, counts.asked
    found = []
    for column in range(len(counts.question_of)):
        c1, n1 = picked[g, column], asked[g, column]
        c2 = picked[described, column].sum() - c1
        n2 = asked[described, column].sum() - n1
        if n1 and n2 and c1 / n1 > c2 / n2 and _significant(c1, n1, c2, n2):
            found.append((c1 / n1 - c2 / n2, column, c1 / n1, c2 / n2))
    found.sort(key=lambda f: (-f[0], f[1]))
    return Group(
        size, [Distinctive(*counts.option(c), p, q) for _, c, p, q in found[:DISTINCTIVE]]
    )


def _shared_and_divided(
    counts: _Counts, described: list[int]
) -> tuple[list[Consensus], Division | None]:
    """The options a majority of every described group chose, and the option whose shares
    differ most between them (among questions every one of them answered)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts.picked[described] / counts.asked[described]
    consensus = []
    division = None
    if len(described) >= 2 and shares.size:
        for column in range(len(counts.question_of)):
            column_shares = shares[:, column]
            if np.all(np.isfinite(column_shares)) and column_shares.min() > MAJORITY:
                consensus.append(
                    Consensus(
                        *counts.option(column),
                        float(column_shares.min()),
                        float(column_shares.max()),
                    )
                )
        known = np.all(np.isfinite(shares), axis=0)
        filled = np.where(known, shares, 0.0)
        gaps = np.where(known, filled.max(axis=0) - filled.min(axis=0), -1.0)
        if gaps.max() > 0:
            column = int(gaps.argmax())
            division = Division(*counts.option(column), [float(s) for s in shares[:, column]])
    consensus.sort(key=lambda c: -c.lowest)
    return consensus, division


def describe(ballots: Ballots, seed: int = SEED) -> OpinionGroups | None:
    """The opinion groups of the eligible voters, or None below MIN_VOTERS of them."""
    keep = ballots.eligible()
    weights = ballots.weights[keep]
    voters = int(weights.sum())
    if voters < MIN_VOTERS:
        return None
    subset = Ballots(ballots.chosen[keep], ballots.answered[keep], ballots.offsets, weights)
    labels, score = cluster(
        subset.features(), subset.chosen, weights, np.random.default_rng(seed), subset.offsets
    )
    counts = _counts(subset, labels)
    described = [g for g in range(len(counts.sizes)) if counts.sizes[g] >= MIN_GROUP]
    groups = [_group(counts, g, described) for g in range(len(counts.sizes))]
    consensus, division = _shared_and_divided(counts, described)
    every_row = np.full(len(ballots.weights), -1, dtype=np.intp)
    every_row[keep] = labels
    return OpinionGroups(voters, groups, consensus, division, score, every_row)
