"""Clustering voters by their answers: weighted k-means for 2 to 4 groups, groups that differ
clearly on one question at most merged, and the fewest groups kept unless more are clearly
better.

Why not the best silhouette alone: it rewards groups of identical voters, so two camps with a
few members differing on one question inside each came out as four groups. Here, for each k,
the two groups that differ clearly (their answers' distributions half apart or more, in total
variation) on the fewest questions are merged while that is one question or none; then the
fewest groups win, unless more groups have a silhouette higher by CLEARLY_BETTER (one group
counts 0, no structure).

A small k-means in NumPy rather than scikit-learn: installing scikit-learn (and SciPy, which
it requires) adds about 200 MB and 6.5 s to each of CI's two installs, and importing it adds
about 100 MiB to the bot's memory, whose budget (README, "Latency") is already used up. The
algorithm needed is short: k-means++ seeding, Lloyd's iterations on the distinct answer
patterns weighted by how many voters gave them (past FIT_SAMPLE voters, on a random sample of
them, every voter then joining the nearest centre), a few restarts, and the silhouette
measured on a fixed random sample (its cost grows with the square of the points).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

GROUP_COUNTS = (2, 3, 4)
MIN_GROUP = 3  # a smaller group is not described: its answers would be a few people's
SILHOUETTE_SAMPLE = 1500
# Past this many voters, the groups' centres are found on this many drawn at random (their
# sets of answers weighted by how often they were drawn), then every voter joins the nearest:
# at 100,000 voters with ratings nearly every set is distinct, and Lloyd's iterations over
# all of them cost several times more for centres that the sample gives within noise.
FIT_SAMPLE = 20_000
RESTARTS = 3
ITERATIONS = 60
DIFFERENT = 0.5  # two groups differ clearly on a question from this total variation on
CLEARLY_BETTER = 0.1  # what more groups must add to the silhouette to be preferred

Matrix = npt.NDArray[np.float64]


def _distances(points: Matrix, centres: Matrix, norms: Matrix | None = None) -> Matrix:
    """Squared Euclidean distances (n x k); `norms`, the points' squared norms, if known."""
    if norms is None:
        norms = np.einsum("ij,ij->i", points, points)
    squared = points @ (-2 * centres.T)
    squared += norms[:, None]
    squared += np.einsum("ij,ij->i", centres, centres)[None, :]
    return np.maximum(squared, 0.0, out=squared)


def kmeans(
    points: Matrix, weights: npt.NDArray[np.float64], k: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.intp], float]:
    """Weighted k-means (k-means++ seeding, RESTARTS runs): labels and inertia of the best."""
    best: tuple[npt.NDArray[np.intp], float] | None = None
    total = weights.sum()
    norms = np.einsum("ij,ij->i", points, points)
    for _ in range(RESTARTS):
        centres = np.empty((k, points.shape[1]))
        centres[0] = points[rng.choice(len(points), p=weights / total)]
        nearest = _distances(points, centres[:1], norms)[:, 0]
        for c in range(1, k):
            mass = nearest * weights
            pick = rng.choice(len(points), p=mass / mass.sum()) if mass.sum() > 0 else 0
            centres[c] = points[pick]
            nearest = np.minimum(nearest, _distances(points, centres[c : c + 1], norms)[:, 0])
        labels = np.zeros(len(points), dtype=np.intp)
        for iteration in range(ITERATIONS):
            distances = _distances(points, centres, norms)
            new_labels = distances.argmin(axis=1)
            if iteration and np.array_equal(new_labels, labels):
                break
            labels = new_labels
            membership = np.zeros((len(points), k))
            membership[np.arange(len(points)), labels] = weights
            mass = membership.sum(axis=0)
            sums = membership.T @ points
            for c in range(k):
                if mass[c] > 0:
                    centres[c] = sums[c] / mass[c]
                else:  # an empty group takes the point farthest from its centre
                    centres[c] = points[distances.min(axis=1).argmax()]
        distances = _distances(points, centres, norms)
        labels = distances.argmin(axis=1)
        inertia = float((distances[np.arange(len(points)), labels] * weights).sum())
        if best is None or inertia < best[1]:
            best = (labels, inertia)
    assert best is not None
    return best


def silhouette(points: Matrix, labels: npt.NDArray[np.intp]) -> float:
    """The mean silhouette of the points (a sample of the voters)."""
    groups = np.unique(labels)
    if len(groups) < 2:
        return -1.0
    distances = np.sqrt(_distances(points, points))
    scores = np.zeros(len(points))
    mean_to = np.stack([distances[:, labels == g].mean(axis=1) for g in groups], axis=1)
    sizes = np.array([(labels == g).sum() for g in groups])
    own = np.searchsorted(groups, labels)
    for row in range(len(points)):
        size = sizes[own[row]]
        if size <= 1:
            continue  # a point alone in its group scores 0
        inside = mean_to[row, own[row]] * size / (size - 1)  # without itself
        outside = np.delete(mean_to[row], own[row]).min()
        scores[row] = (outside - inside) / max(inside, outside) if max(inside, outside) else 0.0
    return float(scores.mean())


def _differences(
    patterns: Matrix, counts: Matrix, labels: npt.NDArray[np.intp], offsets: list[int]
) -> tuple[Matrix, Matrix]:
    """Per pair of groups: on how many questions they differ clearly, and their total
    variation summed over the questions (k x k each)."""
    k = int(labels.max()) + 1
    members = np.zeros((k, len(labels)))
    members[labels, np.arange(len(labels))] = counts
    mass = members.sum(axis=1)
    means = (members @ patterns) / np.maximum(mass, 1e-12)[:, None]
    gaps = np.abs(means[:, None, :] - means[None, :, :])
    per_question = np.stack(
        [gaps[:, :, offsets[q] : offsets[q + 1]].sum(axis=2) / 2 for q in range(len(offsets) - 1)],
        axis=2,
    )
    return (per_question >= DIFFERENT).sum(axis=2).astype(np.float64), per_question.sum(axis=2)


def merge_close(
    patterns: Matrix, counts: Matrix, labels: npt.NDArray[np.intp], offsets: list[int]
) -> npt.NDArray[np.intp]:
    """Merge the two groups that differ clearly on the fewest questions (the closest in total
    among equals) while that is at most one question; groups renumbered from 0."""
    labels = np.unique(labels, return_inverse=True)[1].reshape(-1)
    while labels.max() > 0:
        differing, total = _differences(patterns, counts, labels, offsets)
        k = len(differing)
        pairs = [(differing[a, b], total[a, b], a, b) for a in range(k) for b in range(a + 1, k)]
        fewest, _, a, b = min(pairs)
        if fewest > 1:
            break
        labels = np.where(labels == b, a, labels)
        labels = np.unique(labels, return_inverse=True)[1].reshape(-1)
    return labels


def _chosen(candidates: list[tuple[bool, int, float, npt.NDArray[np.intp]]]) -> int:
    """The candidate kept: the fewest groups (preferring those whose groups all have MIN_GROUP
    voters), unless more groups have a silhouette higher by CLEARLY_BETTER."""
    order = sorted(range(len(candidates)), key=lambda i: (not candidates[i][0], candidates[i][1]))
    best = order[0]
    for i in order[1:]:
        if candidates[i][0] < candidates[best][0]:
            break
        more = candidates[i][1] > candidates[best][1]
        if more and candidates[i][2] > candidates[best][2] + CLEARLY_BETTER:
            best = i
    return best


def _fitting_sample(
    counts: npt.NDArray[np.float64], rng: np.random.Generator
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]] | None:
    """FIT_SAMPLE voters drawn at random, as the patterns they gave and how many of them
    gave each; None when there are not more voters than that (all of them are used)."""
    voters = int(counts.sum())
    if voters <= FIT_SAMPLE:
        return None
    drawn = np.searchsorted(
        np.cumsum(counts), rng.choice(voters, FIT_SAMPLE, replace=False), side="right"
    )
    rows, drawn_counts = np.unique(drawn, return_counts=True)
    return rows, drawn_counts.astype(np.float64)


def _fitted(
    patterns: Matrix,
    counts: npt.NDArray[np.float64],
    k: int,
    rng: np.random.Generator,
    fit: tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]] | None,
) -> npt.NDArray[np.intp]:
    """Each pattern's group among k: k-means on all of them, or on the `fit` sample, and
    then every pattern in the group of the nearest centre (the groups numbered from 0)."""
    if fit is None:
        return kmeans(patterns, counts, k, rng)[0]
    rows, weights = fit
    points = patterns[rows]
    labels, _ = kmeans(points, weights, k, rng)
    centres = np.stack(
        [
            np.average(points[labels == c], axis=0, weights=weights[labels == c])
            for c in range(k)
            if (labels == c).any()
        ]
    )
    nearest = _distances(patterns, centres).argmin(axis=1)
    return np.asarray(np.unique(nearest, return_inverse=True)[1].reshape(-1), dtype=np.intp)


def cluster(
    features: Matrix,
    chosen: npt.NDArray[np.uint8],
    weights: npt.NDArray[np.int64],
    rng: np.random.Generator,
    offsets: list[int] | None = None,
) -> tuple[npt.NDArray[np.intp], float]:
    """The group of each row (numbered by decreasing size) and the chosen grouping's
    silhouette (0 for one group); a row is the answers that `weights` voters gave, question q
    in columns offsets[q] to offsets[q + 1] (each column its own question without them).

    k goes from 2 to 4; groups that differ clearly on one question at most are merged, and
    the fewest groups are kept unless more are clearly better (see the module's docstring).
    The result depends only on how many voters gave each set of answers: not on the rows'
    order, nor on whether voters who answered alike come as one row or several.
    """
    if offsets is None:
        offsets = list(range(features.shape[1] + 1))
    # Voters who gave the same answers are one point with a weight: their chosen options, as
    # bits, identify them (an unanswered question has no option chosen).
    packed = np.ascontiguousarray(np.packbits(chosen, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    patterns = np.ascontiguousarray(features[first])
    counts = np.asarray(np.bincount(inverse, weights=weights), dtype=np.float64)
    voters = int(counts.sum())
    # The silhouette's sample: voters drawn among all of them listed pattern by pattern (the
    # voter numbered v gave the first pattern whose running total of voters exceeds v).
    sample = (
        rng.choice(voters, SILHOUETTE_SAMPLE, replace=False)
        if voters > SILHOUETTE_SAMPLE
        else np.arange(voters)
    )
    sampled = np.searchsorted(np.cumsum(counts), sample, side="right")
    fit = _fitting_sample(counts, rng)
    candidates: list[tuple[bool, int, float, npt.NDArray[np.intp]]] = []
    for k in GROUP_COUNTS:
        if k > len(patterns):
            break
        labels = _fitted(patterns, counts, k, rng, fit)
        labels = merge_close(patterns, counts, labels, offsets)
        groups = int(labels.max()) + 1
        sizes = np.bincount(labels, weights=counts, minlength=groups)
        score = silhouette(patterns[sampled], labels[sampled]) if groups > 1 else 0.0
        candidates.append((bool(sizes.min() >= MIN_GROUP), groups, score, labels))
    if not candidates:  # everybody answered alike
        return np.zeros(len(features), dtype=np.intp), 0.0
    _, _, score, labels = candidates[_chosen(candidates)]
    order = np.argsort(-np.bincount(labels, weights=counts), kind="stable")
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    return renumber[labels][inverse], score
