"""Harrell's concordance, counted exactly on the (time × value) grid (METHODS §3.2).

`score` is always *predicted survival* (higher = expected to stay longer): the wrong sign silently
returns 1 − C. Tie rules are lifelines' (`concordance_index`).
"""

from __future__ import annotations

import numpy as np

from .grid import SurvivalData, check_covariate, check_weights, grid_counts

#: Scores with more distinct values than this leave the exact (time × value) grid of `concordance`.
CONCORDANCE_MAX_VALUES = 2000


#: Largest (distinct times × distinct values) grid `concordance` builds (16 MB per array).
CONCORDANCE_MAX_CELLS = 2_000_000


def concordance(sd: SurvivalData, score: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Harrell's C of `score` as *predicted survival* (higher = expected to stay longer).

    Tie rules are lifelines' (`concordance_index(T, score, E)`): a pair is comparable when the
    shorter duration is a churn event; a churn at t and a censoring at t are comparable (the churn
    is shorter); two churns at the same t are not; equal scores count ½. Passing a hazard instead
    of a survival score silently returns 1 − C: use `-beta * x` from `cox_univariate`.

    Pair weights are w_i·w_j, so whole-number weights give the C of the row-expanded data.

    Paths, fastest first:
    - ≤ `CONCORDANCE_MAX_VALUES` distinct scores and a (time × value) grid of at most
      `CONCORDANCE_MAX_CELLS` cells: exact counting on the grid (typical: counts, whole days).
    - otherwise, unweighted: `concordance_sorted` (exact, one sorted array).
    - otherwise, weighted: the score is cut into `CONCORDANCE_MAX_VALUES` quantile bins and counted
      on the grid. This is **approximate** (scores in one bin count as tied); it is meant for
      bootstrap resamples, whose spread it barely changes. If even that grid is too large (many
      distinct float durations), the rows are expanded by their weights and lifelines is called.

    Raises ValueError when no pair is comparable (e.g. no churn events).
    """
    score = check_covariate(score, sd.n, "score")
    w = check_weights(weights, sd.n, integer=False)
    values, value_index = np.unique(score, return_inverse=True)
    n_times = sd.times.size

    if values.size <= CONCORDANCE_MAX_VALUES and n_times * values.size <= CONCORDANCE_MAX_CELLS:
        return _concordance_grid(sd, value_index, values.size, w)
    if w is None:
        if not sd.event.any():
            raise ValueError("no comparable pairs: concordance needs at least one churn event")
        return concordance_sorted(sd, value_index)
    if values.size > CONCORDANCE_MAX_VALUES:
        edges = np.unique(np.quantile(score, np.linspace(0, 1, CONCORDANCE_MAX_VALUES + 1)[1:-1]))
        value_index = np.searchsorted(edges, score, side="right")
        if n_times * (edges.size + 1) <= CONCORDANCE_MAX_CELLS:
            return _concordance_grid(sd, value_index, edges.size + 1, w)
    from lifelines.utils import concordance_index  # a rare path: lifelines takes ~1 s to import

    w = check_weights(w, sd.n, integer=True)
    reps = w.astype(np.int64)
    if not (sd.event.astype(bool) & (reps > 0)).any():
        raise ValueError("no comparable pairs: concordance needs at least one churn event")
    return float(
        concordance_index(
            np.repeat(sd.duration, reps), np.repeat(score, reps), np.repeat(sd.event, reps)
        )
    )


def concordance_sorted(sd: SurvivalData, ranks: np.ndarray) -> float:
    """Exact unweighted C for scores with many distinct values, in O(distinct times × users).

    Walks the distinct times from the last down, keeping the scores of users with a longer
    duration in one sorted array: the partners of the churners at time t are those plus the
    users censored at t, and two binary searches per churner count the higher and equal
    scores (lifelines' tie rules). `ranks` are dense integer codes of the score (ascending).
    Replaces `lifelines.utils.concordance_index`, which loops in Python (2 s at 100k users);
    equal to it (tested).
    """
    order = np.argsort(sd.time_index, kind="stable")
    t_sorted = sd.time_index[order]
    bounds = np.searchsorted(t_sorted, np.arange(sd.times.size + 1))
    codes = ranks[order].astype(np.int64)
    events = sd.event[order].astype(bool)
    later = np.zeros(0, dtype=np.int64)
    concordant = tied = pairs = 0
    for j in range(sd.times.size - 1, -1, -1):
        lo, hi = bounds[j], bounds[j + 1]
        if lo == hi:
            continue
        here, dead = codes[lo:hi], events[lo:hi]
        if dead.any():
            churn = here[dead]
            censored = np.sort(here[~dead])
            for partners in (later, censored):
                above = partners.size - np.searchsorted(partners, churn, side="right")
                equal = partners.size - above - np.searchsorted(partners, churn, side="left")
                concordant += int(above.sum())
                tied += int(equal.sum())
                pairs += partners.size * churn.size
        new = np.sort(here)
        later = np.insert(later, np.searchsorted(later, new), new)
    if pairs == 0:
        raise ValueError("no comparable pairs: concordance needs at least one churn event")
    return float((concordant + tied / 2) / pairs)


def _concordance_grid(
    sd: SurvivalData, value_index: np.ndarray, n_values: int, w: np.ndarray | None
) -> float:
    """Exact C from a (distinct time × distinct score) grid of user and churn counts.

    For churners at time j with score v, the comparable partners are everyone with a longer
    duration plus those censored at j; cumulative sums over scores split them into higher
    (concordant), equal (tied) and lower (discordant). Unweighted counts are kept as int64 so
    the ratio is bit-for-bit lifelines'.
    """
    users, churned = grid_counts(sd, value_index, n_values, w)

    longer = np.zeros_like(users)
    longer[:-1] = np.cumsum(users[::-1], axis=0)[::-1][1:]
    partners = longer + (users - churned)
    at_or_below = np.cumsum(partners, axis=1)
    higher = at_or_below[:, -1:] - at_or_below
    concordant = (churned * higher).sum()
    tied = (churned * partners).sum()
    discordant = (churned * (at_or_below - partners)).sum()
    pairs = concordant + tied + discordant
    if pairs == 0:
        raise ValueError("no comparable pairs: concordance needs at least one churn event")
    return float((concordant + tied / 2) / pairs)
