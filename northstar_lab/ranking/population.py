"""The analysis populations, prepared once per ranking: landmark users, revenue users and the
threshold-training split, with their survival data sorted once and reused by every candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..outcomes import Outcomes
from ..stats import influence
from ..stats.grid import SurvivalData


@dataclass
class Population:
    """The analysis populations, prepared once: every candidate reuses these sorts and splits.

    Masks are over all rows of the per-user frame; `ret` = landmark users, `rev` = users with
    the revenue outcome, `train` = the threshold-training half (a random or cohort split).
    """

    outcomes: Outcomes
    train: np.ndarray
    horizon: float  # days after the landmark (never past the longest follow-up)
    unit: str | None = None  # a users table's duration unit, for words only (None = days)
    sd: SurvivalData = field(init=False)
    sd_train: SurvivalData = field(init=False)
    sd_test: SurvivalData = field(init=False)
    revenue_all: influence.SpearmanTarget | None = field(init=False, default=None)
    revenue_test: influence.SpearmanTarget | None = field(init=False, default=None)
    candidates: list = field(init=False, default_factory=list)  # set during a ranking

    def __post_init__(self) -> None:
        oc = self.outcomes
        self.sd = SurvivalData.from_arrays(oc.duration, oc.event)
        self.sd_train = self._sd(self.ret & self.train)
        self.sd_test = self._sd(self.ret & ~self.train)
        if self.has_revenue:
            self.revenue_all = influence.SpearmanTarget(oc.revenue[self.rev])
            if (self.rev & ~self.train).sum() >= 10:
                self.revenue_test = influence.SpearmanTarget(oc.revenue[self.rev & ~self.train])

    def _sd(self, mask: np.ndarray) -> SurvivalData:
        oc = self.outcomes
        return SurvivalData.from_arrays(
            oc.duration_since_signup[mask] - oc.window_days, oc.event_all[mask]
        )

    @property
    def ret(self) -> np.ndarray:
        return self.outcomes.retention_mask

    @property
    def rev(self) -> np.ndarray:
        return self.outcomes.revenue_mask

    @property
    def has_revenue(self) -> bool:
        return self.outcomes.revenue is not None and self.rev.sum() >= 10

    @cached_property
    def _indices(self) -> dict:
        return {
            "all": (np.flatnonzero(self.ret), np.flatnonzero(self.rev)),
            "held_out": (
                np.flatnonzero(self.ret & ~self.train),
                np.flatnonzero(self.rev & ~self.train),
            ),
            "train": np.flatnonzero(self.ret & self.train),
        }

    @cached_property
    def held_out_revenue(self) -> np.ndarray | None:
        """Revenue of the held-out revenue users (the threshold figures' revenue per user)."""
        if not self.has_revenue:
            return None
        return self.outcomes.revenue.take(self._indices["held_out"][1])

    def index(self, held_out: bool) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers (retention users, revenue users), cheaper to gather with than masks."""
        return self._indices["held_out" if held_out else "all"]

    def masks(self, held_out: bool) -> tuple[np.ndarray, np.ndarray]:
        """(retention mask, revenue mask) over frame rows for all users or held-out users."""
        if not held_out:
            return self.ret, self.rev
        return self.ret & ~self.train, self.rev & ~self.train


@dataclass
class Influence:
    """A candidate's per-user influence on its C (retention users) and ρ (revenue users).

    Kept as float32: the stability draws build their influence matrix in float32 anyway
    (`stability._influence_draws`), and at 2M users two float64 vectors per candidate and its
    '≥ k' version were 3 GB of the benchmark's peak. ρ's standard error, which is reported,
    is taken from the float64 vector before it is narrowed (`rho_se`)."""

    c: np.ndarray
    rho: np.ndarray | None
    held_out: bool
    rho_se: float | None = None

    @classmethod
    def of(cls, c: np.ndarray, rho: np.ndarray | None, held_out: bool) -> Influence:
        """Narrowed to float32, with ρ's SE √(Σ ψ²) from the full-precision vector."""
        rho_se = float(np.sqrt(rho @ rho)) if rho is not None else None
        narrow = None if rho is None else rho.astype(np.float32)
        return cls(c.astype(np.float32), narrow, held_out, rho_se)


def split_users(n: int, seed: int, signup_sec=None, mode: str = "random") -> np.ndarray:
    """Training mask: a seeded random half, or the earlier half of signups ('cohort')."""
    if mode == "cohort" and signup_sec is not None:
        return np.asarray(signup_sec) < np.nanmedian(signup_sec)
    return np.random.default_rng(seed).random(n) < 0.5
