"""Stability over cohorts and segments, the Simpson's-paradox guard (METHODS §5.4): a Cox fit per
cohort and their fixed-effect inverse-variance pooling with Cochran's Q and I².
"""

from __future__ import annotations

import numpy as np

from .cox import cox_univariate
from .dist import Z95
from .grid import SurvivalData

COHORT_COLUMNS = [
    "cohort", "n", "events", "log_hr", "se", "hazard_ratio", "ci_low", "ci_high", "included",
    "note",
]  # fmt: skip


def pool_inverse_variance(log_hr: np.ndarray, se: np.ndarray) -> dict:
    """Fixed-effect inverse-variance pooling of log hazard ratios with Cochran's Q and I².

    pooled = Σ w·b / Σ w with w = 1/se²; pooled_se = 1/√Σw; Q = Σ w·(b − pooled)²;
    I² = max(0, (Q − df)/Q), df = cohorts − 1 (0 when Q = 0): the share of the spread between
    cohorts beyond chance. same_sign_share: share of cohorts whose log-HR has the pooled sign.
    sign_flip: some cohort's 95% CI lies entirely on the other side of 0 from the pooled value.
    """
    b, s = np.asarray(log_hr, float), np.asarray(se, float)
    if b.size == 0:
        nan = float("nan")
        keys = ("pooled_log_hr", "pooled_se", "pooled_hr", "pooled_ci_low", "pooled_ci_high")
        return dict.fromkeys((*keys, "q", "i2", "same_sign_share"), nan) | dict(
            sign_flip=False, n_cohorts=0
        )
    w = 1.0 / s**2
    pooled = float(np.sum(w * b) / np.sum(w))
    pooled_se = float(1.0 / np.sqrt(np.sum(w)))
    q = float(np.sum(w * (b - pooled) ** 2))
    i2 = max(0.0, (q - (b.size - 1)) / q) if q > 0 else 0.0
    lo, hi = b - Z95 * s, b + Z95 * s
    flip = (lo > 0).any() if pooled < 0 else (hi < 0).any() if pooled > 0 else False
    return dict(
        pooled_log_hr=pooled,
        pooled_se=pooled_se,
        pooled_hr=float(np.exp(pooled)),
        pooled_ci_low=float(np.exp(pooled - Z95 * pooled_se)),
        pooled_ci_high=float(np.exp(pooled + Z95 * pooled_se)),
        q=q,
        i2=float(i2),
        same_sign_share=float(np.mean(np.sign(b) == np.sign(pooled))),
        sign_flip=bool(flip),
        n_cohorts=int(b.size),
    )


def cohort_row(name, t, e, z, min_events: int) -> dict:
    row = dict.fromkeys(COHORT_COLUMNS, np.nan)
    row.update(cohort=name, n=int(t.size), events=int(e.sum()), included=False, note="")
    if row["events"] < min_events:
        row["note"] = f"fewer than {min_events} churn events"
        return row
    if np.ptp(z) == 0:
        row["note"] = "the metric does not vary in this cohort"
        return row
    fit = cox_univariate(SurvivalData.from_arrays(t, e), z)
    if not (fit.converged and np.isfinite(fit.se)):
        row["note"] = "Cox model did not converge"
        return row
    row.update(
        log_hr=fit.beta,
        se=fit.se,
        hazard_ratio=float(np.exp(fit.beta)),
        ci_low=float(np.exp(fit.beta - Z95 * fit.se)),
        ci_high=float(np.exp(fit.beta + Z95 * fit.se)),
        included=True,
    )
    return row
