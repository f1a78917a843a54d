"""Small simulated populations for the ranking's rules: known effects, known nulls.

Each user has standardised latent traits; churn after the landmark follows an exponential
proportional-hazards model on the traits that matter; follow-up ends at a uniform censoring
time; revenue is whatever the test plants. Everything is seeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from northstar_lab.candidates import IDENTITY, LOG1P, Candidate, Kind
from northstar_lab.outcomes import Outcomes, landmark_outcomes
from northstar_lab.settings import AnalysisSettings

W, H = 14, 90


def survival_after_landmark(rng, lp: np.ndarray, follow_up: np.ndarray, scale: float = 150.0):
    """Whole days to churn or censoring after the landmark, and the churn flag."""
    t = rng.exponential(scale, lp.size) / np.exp(lp)
    event = (t <= follow_up).astype(float)
    return np.floor(np.minimum(t, follow_up)), event


def count_candidate(name: str, counts: np.ndarray, w: int = W) -> Candidate:
    return Candidate(
        key=Kind.COUNT.key(name),
        name=f"{name}: count in first {w} days",
        kind=Kind.COUNT,
        event=name,
        column=None,
        transform=LOG1P,
        raw=np.asarray(counts, float),
    )


def column_candidate(name: str, values: np.ndarray) -> Candidate:
    return Candidate(
        key=Kind.COLUMN.key(name),
        name=f"{name} (users table)",
        kind=Kind.COLUMN,
        event=None,
        column=name,
        transform=IDENTITY,
        raw=np.asarray(values, float),
        window_verifiable=False,
    )


def outcomes_of(days_after, event, revenue=None, a_days=None, w: int = W, h: int = H):
    """Landmark outcomes from days after the landmark (every user reached it)."""
    n = days_after.size
    frame = pd.DataFrame({"a_days": a_days if a_days is not None else np.full(n, w + h + 400.0)})
    return landmark_outcomes(
        frame,
        w + days_after,
        event,
        "simulated",
        window_days=w,
        horizon_days=h,
        revenue=revenue,
        revenue_source=None if revenue is None else "simulated revenue",
    )


def quick_settings(**kw) -> AnalysisSettings:
    return AnalysisSettings(**({"n_bootstrap": 0} | kw))


def oc_with(outcomes: Outcomes, **kw) -> Outcomes:
    import dataclasses

    return dataclasses.replace(outcomes, **kw)
