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


def comparable_pairs(sd: SurvivalData) -> int:
    """Pairs Harrell's C can compare (lifelines' rules: a churner at t with everyone followed
    longer and everyone censored at t). Zero when, e.g., every user churned on the same day:
    then no statistic of the ranking can tell users apart."""
    users = np.bincount(sd.time_index, minlength=sd.times.size).astype(np.int64)
    deaths = sd.deaths.astype(np.int64)
    longer = users.sum() - np.cumsum(users)
    return int((deaths * (longer + users - deaths)).sum())


#: Largest (position blocks × time keys) grid `concordance_sorted` counts on (16 MB of int32).
SORTED_MAX_CELLS = 4_000_000
#: Churners compared against their own block at once: (churners × block) keys stay in cache.
SORTED_CHUNK = 1 << 13
#: Cost of a grid cell relative to an own-block comparison (both per element, measured at 100k
#: users × 1,400 keys: ~7 ns per cell over its five passes, ~0.9 ns per int16 comparison).
GRID_CELL_COST = 8.0


def concordance_sorted(sd: SurvivalData, ranks: np.ndarray) -> float:
    """Exact unweighted C for scores with many distinct values, in O(n log n + n·m) integer
    operations: a dominance count on (score position, time key), not a walk over times.

    Lifelines' pairs, as keys: a user's partner key is 2·t + 1 if censored, 2·t if churned,
    and a churner at t pairs with every user whose partner key exceeds 2·t (a longer duration,
    or censored at t; never itself or another churn at t). Per churner i, with users sorted
    by score:
    - pairs_i = #{key > 2tᵢ}: one histogram over the keys;
    - GE_i = #{score ≥ sᵢ, key > 2tᵢ}: users from the first position of i's score onward.
      Positions are cut into blocks of m users; later blocks are read off a (block × key)
      suffix-count grid, i's own block is compared directly (m keys);
    - EQ_i = #{score = sᵢ, key > 2tᵢ}: in the (score, key)-sorted users, those of i's score
      after the run of i's own (score, key).
    Concordant = Σ (GE − EQ), tied = Σ EQ, all in int64, so C is the exact ratio lifelines
    computes (tested against `lifelines.utils.concordance_index`). `ranks` are dense integer
    codes of the score (ascending). Replaces a walk that kept the later users' scores in one
    sorted array (O(times × users) copying: 89 ms a column at 100k users × 700 days).
    """
    event = sd.event.astype(bool)
    if not event.any():
        raise ValueError("no comparable pairs: concordance needs at least one churn event")
    n, n_keys = sd.n, 2 * sd.times.size
    key = 2 * sd.time_index.astype(np.int64) + ~event
    by_code_key = np.asarray(ranks, np.int64) * n_keys + key
    order = np.argsort(by_code_key)  # users sorted by (score, key)
    by_code_key = by_code_key[order]
    code = by_code_key // n_keys
    key = key[order]
    churner = np.flatnonzero(event[order])  # positions, in score order
    query = key[churner]  # 2·t of each churner
    greater = n - np.cumsum(np.bincount(key, minlength=n_keys))  # #{key > k}
    pairs = int(greater[query].sum())
    if pairs == 0:
        raise ValueError("no comparable pairs: concordance needs at least one churn event")
    start, score_end = _runs(code, churner)  # the churner's score: its first and past-last
    at_or_above = _dominance_counts(key, start, query, n_keys)
    # equal score, key > 2tᵢ: the score's users after the run of (score, 2tᵢ), i's own run
    equal = score_end - _runs(by_code_key, churner)[1]
    tied = int(equal.sum())
    concordant = int(at_or_above.sum()) - tied
    return float((concordant + tied / 2) / pairs)


def _runs(ordered: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For positions `at` of a sorted array: where the run of their value starts, and one past
    where it ends (one pass over the array instead of two binary searches per position)."""
    n = ordered.size
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    firsts = np.flatnonzero(new)
    run = np.cumsum(new)[at] - 1
    ends = np.append(firsts[1:], n)
    return firsts[run], ends[run]


def _dominance_counts(
    key: np.ndarray, start: np.ndarray, query: np.ndarray, n_keys: int
) -> np.ndarray:
    """Per query i: #{positions p ≥ start[i] with key[p] > query[i]} (keys in 0..n_keys−1).

    Positions are cut into blocks of m: blocks after i's own are read off a (block × key)
    suffix-count grid, i's own block is compared key by key. m balances the two costs
    (`_block_size`).
    """
    n = key.size
    m = _block_size(n, n_keys, start.size)
    n_blocks = -(-n // m)
    grid = np.bincount((np.arange(n) // m) * n_keys + key, minlength=n_blocks * n_keys)
    grid = grid.astype(np.int32).reshape(n_blocks, n_keys)  # counts < n < 2³¹
    for b in range(n_blocks - 2, -1, -1):  # blocks ≥ b, per key: row adds (numpy's cumsum
        grid[b] += grid[b + 1]  # down the first axis is strided, several times slower)
    # at_or_below[b, k]: users in blocks ≥ b with key ≤ k; a zero row for "no later block"
    at_or_below = np.zeros((n_blocks + 1, n_keys), np.int32)
    np.cumsum(grid, axis=1, dtype=np.int32, out=at_or_below[:-1])
    block = start // m
    later = block + 1
    counts = at_or_below[later, -1].astype(np.int64) - at_or_below[later, query]
    counts += _own_block_counts(key, start, query, block, m, n_keys)
    return counts


def _block_size(n: int, n_keys: int, n_queries: int) -> int:
    """Users per block: the m that minimises GRID_CELL_COST·(n/m)·n_keys + n_queries·m, at
    least 64, and large enough that the grid stays within SORTED_MAX_CELLS."""
    best = int(np.sqrt(GRID_CELL_COST * n * n_keys / max(n_queries, 1)))
    return max(64, best, -(-n * n_keys // SORTED_MAX_CELLS))


def _own_block_counts(key, start, query, block, m: int, n_keys: int) -> np.ndarray:
    """Per query i: #{p in i's own block, p ≥ start[i], key[p] > query[i]}, in chunks of
    churners whose (chunk × m) keys are compared as int16 when the keys fit (half the memory
    traffic of int32; the sum of m ≤ 65,535 booleans fits a uint16)."""
    kind = np.int16 if n_keys < 2**15 else np.int32
    padded = np.full(-(-key.size // m) * m, -1, kind)  # -1 is never above a query
    padded[: key.size] = key
    padded = padded.reshape(-1, m)
    first = (start - block * m).astype(kind if m < 2**15 else np.int32)
    column = np.arange(m, dtype=first.dtype)
    q = query.astype(kind)
    out = np.empty(start.size, np.int64)
    for lo in range(0, start.size, SORTED_CHUNK):
        hi = min(lo + SORTED_CHUNK, start.size)
        own = padded[block[lo:hi]] > q[lo:hi, None]
        own &= column >= first[lo:hi, None]
        if m < 2**16:
            out[lo:hi] = own.view(np.uint8).sum(axis=1, dtype=np.uint16)
        else:
            out[lo:hi] = own.sum(axis=1)
    return out


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
