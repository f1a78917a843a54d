"""Known data shared by the statistics tests: lifelines' Rossi data, and synthetic outcomes with
heavy ties (whole days) or float durations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from northstar_lab.stats.grid import SurvivalData


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return load_rossi().rename(columns={"week": "T", "arrest": "E"})


@pytest.fixture(scope="module")
def rossi_sd(rossi) -> SurvivalData:
    return SurvivalData.from_arrays(rossi["T"].to_numpy(), rossi["E"].to_numpy())


def synthetic(seed: int, n: int, whole_days: bool) -> pd.DataFrame:
    """Users with log1p(Poisson count) that protects against churn; random censoring."""
    rng = np.random.default_rng(seed)
    x = np.log1p(rng.poisson(rng.gamma(1.0, 2.0, n)))
    churn = rng.exponential(20 * np.exp(0.4 * x))
    censor = rng.uniform(0, 80, n)
    t = np.minimum(churn, censor)
    if whole_days:
        t = np.minimum(np.floor(t), 60)
    e = ((churn <= censor) & (t < 60 if whole_days else True)).astype(int)
    w = rng.poisson(1.0, n).astype(float)
    return pd.DataFrame({"T": t, "E": e, "x": x, "w": w})


@pytest.fixture(scope="module")
def ties() -> pd.DataFrame:
    return synthetic(seed=7, n=5000, whole_days=True)


@pytest.fixture(scope="module")
def floats() -> pd.DataFrame:
    return synthetic(seed=11, n=1500, whole_days=False)


def expanded(df: pd.DataFrame) -> pd.DataFrame:
    """Each row repeated by its frequency weight: what weights are defined to mean."""
    return df.loc[df.index.repeat(df["w"].astype(int))].drop(columns="w")
