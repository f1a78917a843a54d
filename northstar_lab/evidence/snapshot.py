"""The evidence a decision record stores: the data behind every chart, JSON-ready, and back.

A live analysis and a record's snapshot draw the same charts because both go through these
tables (`tables.py`) and the same builders (`charts.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis import Analysis
from ..results import jsonable, known_fields
from ..stats.cohorts import COHORT_COLUMNS, pool_inverse_variance
from . import charts
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


# --------------------------------------------------------------------------------------------
# Back: the charts of a stored snapshot
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotMeta:
    """The snapshot's 'meta' row: the settings a chart's words need (older records: defaults)."""

    window_days: int = 14
    horizon_days: int = 90
    score_weights: tuple[float, float] = (0.6, 0.4)
    keys: tuple[str, ...] = ()
    churn_source: str | None = None
    revenue_source: str | None = None

    @classmethod
    def of(cls, snapshot: dict[str, list[dict]]) -> SnapshotMeta:
        rows = snapshot.get("meta") or [{}]
        kw = known_fields(cls, rows[0])
        kw.update({k: tuple(kw[k]) for k in ("score_weights", "keys") if kw.get(k)})
        return cls(**{k: v for k, v in kw.items() if v is not None})


def split_chart_name(name: str) -> tuple[str, str | None]:
    """('km', 'count:invite_sent') from 'km/count:invite_sent' or 'km:count:invite_sent';
    ('forest', None) from 'forest'. Both spellings of a per-candidate chart are accepted."""
    m = re.match(r"^(\w+?)[/:](.+)$", name)
    return (m.group(1), m.group(2)) if m else (name, None)


def chart_from_snapshot(snapshot: dict[str, list[dict]], name: str) -> charts.AnyChart | None:
    """One chart of `snapshot_charts` rebuilt from its stored rows; None when the snapshot
    has no table of that name or its kind draws no chart. 'score' is drawn from 'forest'."""
    source = "forest" if name == "score" else name
    rows = snapshot.get(source)
    kind, key = split_chart_name(name)
    if not isinstance(rows, list) or _is_summary(name) or name == "meta":
        return None
    meta = SnapshotMeta.of(snapshot)
    w, h = int(meta.window_days), int(meta.horizon_days)
    df = snapshot_frames({source: rows})[source]
    builders = {
        "overall_retention": lambda: charts.overall_retention_chart(df),
        "forest": lambda: charts.forest_chart(df),
        "score": lambda: charts.score_chart(df, meta.score_weights),
        "correlation": lambda: charts.heatmap_chart(df),
        "km": lambda: charts.km_chart(df, w, h),
        "revenue": lambda: charts.revenue_chart(
            df, charts.revenue_axis_title(meta.revenue_source, w, h)
        ),
        "threshold": lambda: charts.threshold_chart(df, w, h),
        "cohorts": lambda: charts.cohort_chart(df, _summary(snapshot, "cohort_summary", key)),
        "weekly": lambda: charts.weekly_chart(df, _summary(snapshot, "weekly_summary", key), w),
    }
    per_candidate = {"km", "revenue", "threshold", "cohorts", "weekly"}
    build = builders.get(kind)
    if build is None or (kind in per_candidate) != (key is not None):
        return None
    return build()


def charts_from_snapshot(snapshot: dict[str, list[dict]]) -> dict[str, charts.AnyChart]:
    """Every chart of a stored snapshot, by name (`chart_from_snapshot`); the forest table
    also draws 'score'. Tables of unknown kinds are skipped, so an older or partial snapshot
    draws what it can. Names may use 'kind/key' or 'kind:key'."""
    names = [*snapshot, *(["score"] if "forest" in snapshot else [])]
    built = {name: chart_from_snapshot(snapshot, name) for name in names}
    return {name: chart for name, chart in built.items() if chart is not None}


def _summary(snapshot: dict, kind: str, key: str | None) -> dict:
    rows = snapshot.get(snapshot_key(kind, key)) or snapshot.get(f"{kind}:{key}") or [{}]
    return rows[0]
