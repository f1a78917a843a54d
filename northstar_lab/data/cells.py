"""Statistics pushed into the engine: survival cells of count candidates, counted where the
users are, so that only (duration, value, churned, users) rows leave the engine.

For a candidate with few distinct values (a count in the window), the Cox fit, Harrell's C and
the Kaplan–Meier retention need the users per (day since the landmark, value, churned) cell,
not the users themselves (`stats/cells.py`). The engine counts those cells with one group-by
over its per-user table; what comes back is at most (distinct durations × distinct values × 2)
rows — thousands — however many users there are. bench/README.md gives the cost model.
"""

from __future__ import annotations

import ibis
import numpy as np

from ..results import PopulationStatistics
from ..stats.cells import SurvivalCells, concordance_cells, cox_cells, retention_at
from ..stats.dist import Z95


def landmark_rows(users: ibis.Table, *, gap: int, window_days: int) -> ibis.Table:
    """Per-user landmark outcome in the engine: T = D − W days, E = 1 churned (METHODS §1);
    users who churned in the window or cannot yet be observed (D < W) are left out."""
    churn = users[f"churn_day_g{gap}"]
    churned = churn.notnull()
    d = churned.ifelse(churn, users.a_days - gap)
    rows = users.mutate(T=d - window_days, E=churned.cast("int8"))
    return rows.filter(rows["T"] >= 0)


def engine_cells(rows: ibis.Table, column: str, transform: str = "log1p") -> SurvivalCells:
    """The survival cells of one per-user column, counted in the engine (one group-by)."""
    rows = rows.mutate(v=rows[column].coalesce(0).cast("float64"))
    grouped = rows.group_by(["T", "E", "v"]).aggregate(n=rows.count())
    df = grouped.to_pandas()
    raw = df["v"].to_numpy(float)
    values = np.log1p(raw) if transform == "log1p" else raw
    return SurvivalCells.from_counts(
        df["T"].to_numpy(float), values, df["E"].to_numpy(int), df["n"].to_numpy(float)
    )


def engine_figures(
    cells: SurvivalCells, key: str, column: str, horizon_days: float
) -> PopulationStatistics:
    """Cox (HR per SD with its Wald CI), C and KM retention from one candidate's cells — the
    ranking's own formulas (ranking/rank.py `_measure`), on cells instead of users."""
    fit = cox_cells(cells)
    per_level = cells.users.sum(axis=0).astype(float)
    mean = float(per_level @ cells.values) / per_level.sum()
    sd_x = float(np.sqrt(per_level @ (cells.values - mean) ** 2 / (per_level.sum() - 1)))
    z = Z95
    c = concordance_cells(cells, ascending=fit.beta <= 0).c if fit.beta != 0 else 0.5
    return PopulationStatistics(
        key=key,
        column=column,
        n=cells.n,
        n_events=cells.n_events,
        cells=int(np.count_nonzero(cells.users - cells.deaths) + np.count_nonzero(cells.deaths)),
        hazard_ratio=float(np.exp(fit.beta * sd_x)),
        hr_ci_low=float(np.exp((fit.beta - z * fit.se) * sd_x)),
        hr_ci_high=float(np.exp((fit.beta + z * fit.se) * sd_x)),
        coef_per_unit=float(fit.beta),
        p_value=float(fit.p),
        c_index=float(c),
        retention_at_horizon=retention_at(cells, horizon_days),
    )
