"""Does a column grow with how long users have been around? The evidence behind the
lifetime-total verdict (METHODS §2; the verdict itself is `ranking.flags.lifetime_total_verdict`).

Two measurements, on landmark users:

- **Spearman ρ with observed tenure** D (days since signup to churn or censoring). A lifetime
  total tracks D, but a landmark, or per-user rates that vary a lot, pull ρ down (0.65 for a
  total with varied rates), and a genuine early-window driver pushes it up.
- **Tenure elasticity among users still active** (censored): the slope b of log x on log D.
  For them D is the time since signup, set by the signup date rather than by their churn, so
  a column measured in the first days does not grow with it (b ≈ 0, plus a little survivor
  selection: those around longest are enriched in whatever protects), while a total of any
  per-day rate does, in proportion (x = rate·D gives b ≈ 1 whatever the rates). In other words:
  x/D behaves like a rate. The slope is unit-free, so tenure read in the wrong unit leaves it
  unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dist import Z95, rankdata, ranks_of_codes

MIN_USERS = 30  # censored users with x > 0 and distinct tenures needed for the elasticity


@dataclass(frozen=True)
class TenureEvidence:
    """rho: Spearman of x with observed tenure; elasticity (and its 95% lower bound): slope of
    log x on log tenure among censored users with x > 0 (None when not measurable: fewer than
    30 such users, a single tenure, or negative values, which no total takes)."""

    rho: float | None
    elasticity: float | None = None
    elasticity_low: float | None = None
    elasticity_high: float | None = None
    n_elasticity: int = 0


def tenure_evidence(
    x: np.ndarray,
    tenure: np.ndarray,
    event: np.ndarray,
    tenure_ranks: np.ndarray | None = None,
    x_codes: tuple[np.ndarray, int] | None = None,
) -> TenureEvidence:
    """Both measurements for one column (x, tenure in days and churn flags per user, NaN x
    skipped). tenure_ranks: `rankdata(tenure)`, computed once by a caller that judges
    many columns against the same tenure; x_codes: x's dense ascending codes and their number,
    when known (both used only when x has no NaN, so the users match)."""
    x, tenure, event = (np.asarray(a, float) for a in (x, tenure, event))
    ok = ~np.isnan(x)
    if not ok.all():
        x, tenure, event, tenure_ranks, x_codes = x[ok], tenure[ok], event[ok], None, None
    rho = _spearman(x, tenure, tenure_ranks, x_codes)
    rho_or_none = rho if np.isfinite(rho) else None
    if x.size == 0 or x.min() < 0:
        return TenureEvidence(rho_or_none)
    use = (event == 0) & (x > 0) & (tenure > 0)
    if use.sum() < MIN_USERS:
        return TenureEvidence(rho_or_none)
    lx, lt = np.log(x[use]), np.log(tenure[use])
    lt_c = lt - lt.mean()
    sxx = float(lt_c @ lt_c)
    if sxx <= 1e-12 * lt.size:
        return TenureEvidence(rho_or_none)
    slope = float(lt_c @ (lx - lx.mean())) / sxx
    resid = lx - lx.mean() - slope * lt_c
    se = float(np.sqrt((resid @ resid) / max(lt.size - 2, 1) / sxx))
    return TenureEvidence(rho_or_none, slope, slope - Z95 * se, slope + Z95 * se, int(use.sum()))


def rank_tenure(tenure: np.ndarray) -> np.ndarray | None:
    """Mid-ranks of tenure, for `tenure_evidence(..., tenure_ranks=)` over many columns."""
    tenure = np.asarray(tenure, float)
    return rankdata(tenure) if tenure.size > 2 else None


def _spearman(x: np.ndarray, tenure: np.ndarray, tenure_ranks, x_codes) -> float:
    """Spearman's ρ of x with tenure: Pearson of mid-ranks (scipy's `spearmanr`), NaN when
    it is undefined. Tenure is ranked once for all columns, and x from its codes when known:
    then a ranking sorts no column here."""
    if x.size <= 2 or np.ptp(x) == 0:
        return float("nan")
    rt = rankdata(tenure) if tenure_ranks is None else tenure_ranks
    rx = rankdata(x) if x_codes is None else ranks_of_codes(*x_codes)
    rx, rt = rx - rx.mean(), rt - rt.mean()
    denom = np.sqrt(float(rx @ rx) * float(rt @ rt))
    return float(rx @ rt) / denom if denom > 0 else float("nan")
