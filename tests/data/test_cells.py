"""Statistics pushed into the engine equal the in-memory ranking: only survival cells
(duration, value, churned, users) leave the engine, and the Cox fit, C and retention computed
from them agree with what the ranking computes from one row per user (1e-9)."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.settings import AnalysisSettings
from northstar_lab.stats.cells import SurvivalCells, concordance_cells, cox_cells, retention_at
from northstar_lab.stats.cox import cox_univariate
from northstar_lab.stats.grid import SurvivalData, levels
from northstar_lab.stats.km import km_curve

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "sample_data" / "events.parquet"
USERS = ROOT / "sample_data" / "users.csv"
TOL = 1e-9


@pytest.fixture(scope="module")
def full():
    return analyse(load_inputs(str(EVENTS), str(USERS)), AnalysisSettings(n_bootstrap=0))


@pytest.fixture(scope="module")
def sampled():
    """max_users below the sample's size: the statistics use a sample and the population's
    figures (all users) come from the engine — cells only."""
    small = AnalysisSettings(n_bootstrap=0, max_users=4000)
    return analyse(load_inputs(str(EVENTS), str(USERS)), small)


def test_engine_cells_equal_the_ranking_on_all_users(full, sampled):
    stats = [dataclasses.asdict(s) for s in sampled.ranking.data.population.statistics]
    assert len(stats) == 3
    for s in stats:
        r = full.ranking.candidate(s["key"])
        assert s["n"] == r.n and s["n_events"] == r.n_events
        for field in ("hazard_ratio", "hr_ci_low", "hr_ci_high", "coef_per_unit", "c_index"):
            assert s[field] == pytest.approx(getattr(r, field), rel=TOL, abs=TOL), field
        assert s["p_value"] == pytest.approx(r.p_value, rel=1e-6, abs=1e-300)
        assert s["cells"] < r.n  # what left the engine: cells (≤ days × values × 2), not users


def test_engine_retention_equals_kaplan_meier_on_all_users(full, sampled):
    pop = sampled.ranking.data.population
    oc = full.outcomes
    km = km_curve(oc.duration, oc.event)
    expected = float(km.loc[km["time"] <= 90, "survival"].iloc[-1])
    for s in pop.statistics:
        assert s.retention_at_horizon == pytest.approx(expected, abs=TOL)
    assert pop.retention_at_horizon == pytest.approx(expected, abs=TOL)


def test_cells_from_users_equal_per_user_statistics():
    rng = np.random.default_rng(5)
    n = 30_000
    t = rng.integers(0, 200, n).astype(float)
    e = (rng.random(n) < 0.5).astype(float)
    raw = rng.poisson(np.exp(1 - 0.3 * e), n).astype(float)
    x = np.log1p(raw)
    sd = SurvivalData.from_arrays(t, e)
    codes, n_lev = levels(raw)
    values = np.zeros(n_lev)
    values[codes] = x
    cells = SurvivalCells.from_users(sd, codes, n_lev, values)
    fit, ref = cox_cells(cells), cox_univariate(sd, x + 0.0)
    assert fit.beta == pytest.approx(ref.beta, abs=1e-12)
    assert fit.se == pytest.approx(ref.se, abs=1e-12)
    assert fit.loglik == pytest.approx(ref.loglik, rel=1e-13)
    from lifelines.utils import concordance_index

    c = concordance_cells(cells, ascending=fit.beta <= 0).c
    assert c == pytest.approx(concordance_index(t, -fit.beta * x, e), abs=1e-12)
    km = km_curve(t, e)
    assert retention_at(cells, 50) == pytest.approx(
        float(km.loc[km["time"] <= 50, "survival"].iloc[-1]), abs=1e-12
    )
