"""The evidence a decision record stores: the data behind every chart, JSON-ready, and back.

A live analysis and a record's snapshot draw the same charts because both go through these
tables (`tables.py`) and the same builders (`charts.py`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import Analysis
from ..results import jsonable
from ..stats.cohorts import COHORT_COLUMNS, pool_inverse_variance
from .tables import (
    MIN_COHORT_EVENTS,
    cohort_hazard_ratios,
    correlation_long,
    forest_table,
    km_by_threshold,
    overall_retention,
    revenue_by_group,
    threshold_explorer,
    weekly_series,
)


def snapshot_key(chart: str, key: str | None = None) -> str:
    """Name of one chart's data in a snapshot: 'forest', or 'km/count:lesson_completed'."""
    return chart if key is None else f"{chart}/{key}"


def records(df: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: NaN → None, NumPy scalars → Python, timestamps → ISO strings."""
    return jsonable(df.to_dict(orient="records"))


def snapshot_charts(an: Analysis, keys: list[str]) -> dict[str, list[dict]]:
    """The data of every chart a decision record shows, JSON-ready (see `snapshot_key`).

    keys: the chosen candidate first, then the alternatives discussed; keys the ranking does not
    know are left out. Holds: 'meta' (one row: window_days, horizon_days, score_weights, keys,
    churn and revenue sources), 'overall_retention', 'forest' (the leaderboard table, also
    behind the score chart), 'correlation' (between keys) and, per key, 'km', 'revenue',
    'threshold', 'cohorts' + 'cohort_summary', 'weekly' + 'weekly_summary'. Summaries are
    one-row lists.
    """
    known = {c.key for c in an.ranking.candidates} | {c.name for c in an.ranking.candidates}
    keys = list(dict.fromkeys(an.ranking.candidate(k).key for k in keys if k in known))
    oc = an.outcomes
    meta = dict(
        window_days=an.settings.window_days,
        horizon_days=an.settings.horizon_days,
        score_weights=list(an.settings.score_weights),
        keys=keys,
        churn_source=oc.churn_source,
        revenue_source=oc.revenue_source,
    )
    out = {
        "meta": [jsonable(meta)],
        "overall_retention": records(overall_retention(an)),
        "forest": records(forest_table(an.ranking)),
        "correlation": records(correlation_long(an, keys)),
    }
    for key in keys:
        out[snapshot_key("km", key)] = records(km_by_threshold(an, key))
        out[snapshot_key("revenue", key)] = records(revenue_by_group(an, key))
        out[snapshot_key("threshold", key)] = records(threshold_explorer(an, key))
        table, summary = _cohorts_or_empty(an, key)
        out[snapshot_key("cohorts", key)] = records(table)
        out[snapshot_key("cohort_summary", key)] = [jsonable(summary)]
        weekly, wsum = weekly_series(an, key)
        out[snapshot_key("weekly", key)] = records(weekly)
        out[snapshot_key("weekly_summary", key)] = [jsonable(wsum)]
    return out


def _cohorts_or_empty(an: Analysis, key: str) -> tuple[pd.DataFrame, dict]:
    if "signup_sec" not in an.frame:
        summary = pool_inverse_variance(np.array([]), np.array([]))
        summary.update(by="signup_month", min_events=MIN_COHORT_EVENTS, n_skipped=0)
        return pd.DataFrame(columns=COHORT_COLUMNS), summary
    return cohort_hazard_ratios(an, key)


def snapshot_frames(snapshot: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    """The snapshot's tables back as DataFrames (summaries stay one-row lists of dicts)."""
    return {
        name: _numeric_nulls(pd.DataFrame.from_records(rows))
        for name, rows in snapshot.items()
        if isinstance(rows, list) and not _is_summary(name) and name != "meta"
    }


def _is_summary(name: str) -> bool:
    """'cohort_summary/<key>' or 'weekly_summary:<key>' (a key may contain '_summary' too)."""
    return name.split("/")[0].split(":")[0].endswith("_summary")


def _numeric_nulls(df: pd.DataFrame) -> pd.DataFrame:
    """Columns that were all NaN before JSON come back as all None: make them NaN again."""
    empty = [c for c in df.columns if df[c].dtype == object and df[c].isna().all()]
    return df.astype({c: float for c in empty}) if empty else df
