"""Voters' answers as opinion groups read them: a row per voter (or per distinct set of
answers, with how many gave it), one column per option of each question, poll questions
first, then the rated statements (agree, disagree, pass)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

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
    # The first questions, those of the polls, that say who is counted (half of them
    # answered); the others are statements rated (agree, disagree, pass). None: all.
    counted: int | None = None

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
    def of_patterns(
        cls,
        options: Sequence[int],
        patterns: Sequence[tuple[int, int]],
        counted: int | None = None,
    ) -> Ballots:
        """From (set of answers, voters) pairs, a set of answers being an integer whose bit
        offsets[q] + o is set when option o of question q was chosen (storage.insights);
        `counted`: the first questions, the polls', that say who is counted."""
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
        return cls(chosen, answered, offsets, weights, counted)

    @property
    def questions(self) -> int:
        return len(self.offsets) - 1

    def eligible(self) -> npt.NDArray[np.bool_]:
        """Rows of voters who answered at least half of the (poll) questions."""
        counted = self.questions if self.counted is None else self.counted
        half = math.ceil(counted / 2)
        return np.asarray(self.answered[:, :counted].sum(axis=1) >= half)

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
