"""The few distribution functions and rank helpers the library needs, from `scipy.special`.

`scipy.stats` takes ~0.6 s to import, paid at every start of the CLI and by the first
analysis in the app, for five functions: the normal quantile and tail, the χ² tail and
quantile, average ranks and Benjamini–Hochberg q-values. Each is the very formula scipy.stats
evaluates (tests check them against it to 1e-12).
"""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_ppf(p):
    """Standard normal quantile (scipy.stats.norm.ppf)."""
    return special.ndtri(p)


def norm_sf(z):
    """Standard normal upper tail P(Z > z) (scipy.stats.norm.sf)."""
    return special.ndtr(-np.asarray(z, dtype=float))


def chi2_sf(x, df):
    """χ² upper tail P(X > x) with df degrees of freedom (scipy.stats.chi2.sf)."""
    return special.chdtrc(df, x)


def chi2_ppf(q, df):
    """χ² quantile (scipy.stats.chi2.ppf)."""
    return special.chdtri(df, 1.0 - np.asarray(q, dtype=float))


Z95 = float(norm_ppf(0.975))


def rankdata(x: np.ndarray) -> np.ndarray:
    """Average ranks 1..n, ties sharing the mean of their ranks (scipy.stats.rankdata)."""
    x = np.asarray(x)
    _, inverse = np.unique(x.ravel(), return_inverse=True)
    return ranks_of_codes(inverse.ravel(), int(inverse.max(initial=-1)) + 1).reshape(x.shape)


def ranks_of_codes(codes: np.ndarray, n_levels: int) -> np.ndarray:
    """`rankdata` of values given as dense ascending codes (levels may be empty): one count of
    the codes instead of a sort, for columns whose codes are already known."""
    counts = np.bincount(codes, minlength=n_levels)
    before = np.cumsum(counts) - counts
    return (before + (counts + 1) / 2.0)[codes]


def bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (scipy.stats.false_discovery_control, "bh")."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)
    m = p.size
    q = p[order] * (m / np.arange(1, m + 1))
    q = np.minimum.accumulate(q[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(q, 0.0, 1.0)
    return out
