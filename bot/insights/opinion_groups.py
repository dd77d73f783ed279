"""Opinion groups, Pol.is-style: voters clustered by their answers (bot.insights.clustering, on
one-hot answers), what sets each group apart, what every group shares, and the question that
divides them most."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot.insights.answer_sets import Ballots
from bot.insights.clustering import MIN_GROUP, cluster
from bot.insights.intervals import Z95, proportion_z

MIN_VOTERS = 20  # voters who answered at least half of the questions
SEED = 11  # the same votes always make the same groups
WEAK_SILHOUETTE = 0.25  # below this, groups overlap a lot: tendencies rather than camps
DISTINCTIVE = 3  # answers shown per group
MAJORITY = 0.5
STATEMENT_RATERS = 3  # raters of a statement in each group, for a word on it
DIVIDING = 2  # statements named as dividing the groups

Matrix = npt.NDArray[np.float64]


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
    labels: tuple[int, ...] = field(default=(), compare=False, repr=False)
    # Statements (rated opinions, after the poll questions): those a majority of every group
    # agrees with, and those whose agreement differs most between the groups.
    agreed: list[Consensus] = field(default_factory=list)
    dividing: list[Division] = field(default_factory=list)

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
    counts: _Counts, described: list[int], questions: int
) -> tuple[list[Consensus], Division | None]:
    """The options a majority of every described group chose, and the option whose shares
    differ most between them (among questions every one of them answered), of the first
    `questions` questions."""
    columns = counts.offsets[questions]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts.picked[described, :columns] / counts.asked[described, :columns]
    consensus = []
    division = None
    if len(described) >= 2 and shares.size:
        for column in range(columns):
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


def _statements(
    counts: _Counts, described: list[int], first: int
) -> tuple[list[Consensus], list[Division]]:
    """Of the statements (questions from `first` on, option 0: agree): those a majority of
    every described group agrees with, and the DIVIDING ones whose agreement differs most
    between them; each rated by STATEMENT_RATERS of every group at least."""
    agreed, dividing = [], []
    if len(described) < 2:
        return [], []
    for question in range(first, len(counts.offsets) - 1):
        column = counts.offsets[question]
        asked = counts.asked[described, column]
        if asked.min() < STATEMENT_RATERS:
            continue
        shares = counts.picked[described, column] / asked
        if shares.min() > MAJORITY:
            agreed.append(Consensus(question, 0, float(shares.min()), float(shares.max())))
        if shares.max() - shares.min() > 0:
            dividing.append(Division(question, 0, [float(share) for share in shares]))
    agreed.sort(key=lambda c: (-c.lowest, c.question))
    dividing.sort(key=lambda d: (min(d.shares) - max(d.shares), d.question))
    return agreed, dividing[:DIVIDING]


def describe(ballots: Ballots, seed: int = SEED) -> OpinionGroups | None:
    """The opinion groups of the eligible voters, or None below MIN_VOTERS of them."""
    keep = ballots.eligible()
    weights = ballots.weights[keep]
    voters = int(weights.sum())
    if voters < MIN_VOTERS:
        return None
    subset = Ballots(
        ballots.chosen[keep], ballots.answered[keep], ballots.offsets, weights, ballots.counted
    )
    labels, score = cluster(
        subset.features(), subset.chosen, weights, np.random.default_rng(seed), subset.offsets
    )
    counts = _counts(subset, labels)
    described = [g for g in range(len(counts.sizes)) if counts.sizes[g] >= MIN_GROUP]
    groups = [_group(counts, g, described) for g in range(len(counts.sizes))]
    questions = ballots.questions if ballots.counted is None else ballots.counted
    consensus, division = _shared_and_divided(counts, described, questions)
    agreed, dividing = _statements(counts, described, questions)
    every_row = np.full(len(ballots.weights), -1, dtype=np.intp)
    every_row[keep] = labels
    return OpinionGroups(
        voters, groups, consensus, division, score, tuple(every_row.tolist()), agreed, dividing
    )
