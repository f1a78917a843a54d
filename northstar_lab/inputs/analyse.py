"""From an analysis and a chosen North Star to the evidence on every input (METHODS §9).

`analyse_inputs` is the one path the CLI, the app and re-validation share: it measures the inputs
and the North Star (`measure`), fits the user-level lead (`lead`), the weekly product-level series
(`weekly`) and, given an assignments table, the experiments (`experiments`), and states a verdict
per input (`verdict`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.load import resolve_revenue_event
from ..errors import InputError
from ..ranking.score import bh_qvalues
from . import experiments as exp
from . import keyed, measure, weekly
from .define import (
    InputSpec,
    candidate_inputs,
    north_star_spec,
    parse_input,
    with_details,
)
from .keyed import LATER, WINDOW
from .lead import lead_fits
from .result import InputEvidence, InputsResult
from .verdict import edge_strength, experiment_verdict, lead_verdict, verdict_text

MIN_USERS = 50
Progress = Callable[[str, float], None]
InputArg = str | InputSpec | Mapping


def resolve_inputs(
    inputs: Iterable[InputArg] | None, ns: InputSpec, names: list[str], window_days: int
) -> tuple[list[InputSpec], list[str]]:
    """The inputs to analyse (default: every candidate but the North Star) and notes.

    Each may be a key ('count:goal_set'), an InputSpec, or a mapping with 'key' (or 'name') and
    the team's details (kind, owner, definition, target_low, target_high).
    """
    if inputs is None:
        return candidate_inputs(ns, names, window_days), []
    specs, notes, seen = [], [], set()
    for item in inputs:
        details = {}
        if isinstance(item, InputSpec):
            spec = item
        elif isinstance(item, Mapping):
            key = item.get("key") or item.get("name")
            spec = parse_input(str(key or ""), window_days, names)
            details = {k: item.get(k) for k in ("kind", "owner", "definition")}
            details |= {k: _number(item.get(k)) for k in ("target_low", "target_high")}
            details = {k: v for k, v in details.items() if v not in (None, "")}
        else:
            spec = parse_input(str(item), window_days, names)
        spec = with_details(spec, **details)
        if spec.key == ns.key:
            notes.append(f"{spec.key} is the North Star itself and is not analysed as an input.")
        elif spec.key not in seen:
            seen.add(spec.key)
            specs.append(spec)
    if not specs:
        raise InputError(
            "No input metrics to analyse: name at least one other than the North Star."
        )
    return specs, notes


def _number(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _population(analysis, horizon_days: int) -> tuple[np.ndarray, dict[str, int]]:
    """Landmark users (METHODS §1.3) with full follow-up (a_days ≥ W + H)."""
    w = analysis.settings.window_days
    landmark = analysis.outcomes.retention_mask
    full = analysis.frame["a_days"].to_numpy(float) >= w + horizon_days
    mask = landmark & full
    excluded = {
        "not_in_landmark_analysis": int((~landmark).sum()),
        "without_full_follow_up": int((landmark & ~full).sum()),
    }
    if mask.sum() < MIN_USERS:
        raise InputError(
            f"Only {int(mask.sum())} users have {w + horizon_days} days of follow-up after "
            f"signup; input metrics need at least {MIN_USERS}. Use a shorter horizon or newer "
            "data.",
            cli="Try --horizon-days 30.",
            app="Try a shorter horizon in the sidebar.",
        )
    return mask, excluded


def _signup_months(frame: pd.DataFrame) -> np.ndarray:
    """'YYYY-MM' of each user's signup (UTC), vectorised (strftime per row took seconds)."""
    months = frame["signup_sec"].to_numpy("float64").astype("datetime64[s]").astype("datetime64[M]")
    return months.astype(str)


def analyse_inputs(
    analysis,
    loaded,
    north_star: str,
    inputs: Iterable[InputArg] | None = None,
    assignments=None,
    *,
    horizon_days: int | None = None,
    weekly_series: bool = True,
    n_boot: int = weekly.N_BOOT,
    seed: int | None = None,
    progress: Progress | None = None,
) -> InputsResult:
    """The evidence that each input leads the North Star (see the module docstring).

    analysis: `northstar_lab.analyse(...)` of the same data; loaded: its LoadedData (the events
    are read again, once, as a keyed log that the later North Star, the experiments and the
    weekly series share: `keyed`);
    assignments: an assignments file, DataFrame or `experiments.Assignments` (optional);
    weekly_series=False skips the product-level series (re-validation re-checks the user level).
    """
    say = progress or (lambda _m, _f: None)
    w = analysis.settings.window_days
    h = int(horizon_days or analysis.settings.horizon_days)
    seed = analysis.settings.seed if seed is None else seed
    names = measure.event_names(analysis)
    if loaded.events is None or not names:
        raise InputError("Input metrics need an event log: the North Star is measured later.")
    ns = north_star_spec(north_star, w, names)
    specs, notes = resolve_inputs(inputs, ns, names, w)
    revenue = resolve_revenue_event(loaded, analysis.settings)
    exclude = (revenue,) if revenue else ()
    mask, excluded = _population(analysis, h)
    assigned = _assigned(assignments, analysis, h, say)
    say("Measuring the North Star later and the experiments' inputs", 0.1)
    log = keyed.keyed_log(
        loaded.events,
        measure.signup_frame(analysis.frame),
        analysis.as_of,
        assigned.kept["user_id"] if assigned else (),
    )
    try:
        at_signup, at_assignment = _anchored_counts(log, analysis, assigned, specs, ns, h, exclude)
        later = at_signup.values(ns, LATER)[mask]
        early = measure.window_values(analysis, ns)[mask]
        raw = np.column_stack([measure.window_values(analysis, s)[mask] for s in specs])
        X = np.column_stack([s.modelled(raw[:, j]) for j, s in enumerate(specs)])
        say("Fitting the lead of every input", 0.35)
        fits = lead_fits(later, X, early, _signup_months(analysis.frame)[mask])
        evidence = _evidence(specs, raw, fits)
        weekly_part = {}
        if weekly_series:
            say("Weekly series", 0.55)
            weekly_part = _weekly(log, analysis, specs, ns, evidence, n_boot, seed)
    finally:
        log.release()
    experiments_part = {}
    if assigned:
        say("Past experiments", 0.75)
        experiments_part = _experiments(assigned, at_assignment, analysis, specs, ns, evidence, h)
    for e in evidence:
        _judge(e)
    say("Done", 1.0)
    return InputsResult(
        north_star_key=north_star,
        north_star=ns.to_dict(),
        window_days=w,
        horizon_days=h,
        as_of=analysis.as_of.isoformat(),
        n_users=int(mask.sum()),
        excluded=excluded,
        north_star_early_mean=float(early.mean()),
        north_star_later_mean=float(later.mean()),
        inputs=evidence,
        cohorts=_cohort_rows(fits.cohorts, specs),
        weekly=weekly_part,
        experiments=experiments_part,
        notes=notes + experiments_part.get("notes", []),
    )


@dataclass
class _Assigned:
    """The assignments read and validated, those with full follow-up, and the others' count."""

    assignments: exp.Assignments
    kept: pd.DataFrame
    left_out: dict[str, int]


def _assigned(assignments, analysis, h: int, say: Progress) -> _Assigned | None:
    """The assignments (a file, a DataFrame or `experiments.Assignments`), read before the
    engine pass so that their users are keyed with the analysis' users (one join of the log)."""
    if assignments is None:
        return None
    say("Reading the assignments", 0.05)
    a = assignments
    if not isinstance(a, exp.Assignments):
        a = exp.read_assignments(a)
    kept, left_out = exp.followed_up(
        a, window_days=analysis.settings.window_days, horizon_days=h, as_of=analysis.as_of
    )
    return _Assigned(a, kept, left_out)


def _anchored_counts(log, analysis, assigned, specs, ns, h, exclude):
    """The anchored counts of the analysis frame's users at signup (the later North Star) and
    of each assignment with full follow-up (inputs and North Star), from one engine pass: the
    anchors are keyed together, and one at the same user and moment is counted once."""
    frame = analysis.frame
    uid, at = np.arange(len(frame)), frame["signup_sec"].to_numpy(float)
    measured, periods = [ns], (LATER,)
    if assigned and not assigned.kept.empty:
        kept = assigned.kept
        uid = np.concatenate([uid, log.uids(kept["user_id"])])
        at = np.concatenate([at, kept["assigned_sec"].to_numpy(float)])
        measured, periods = [*specs, ns], (WINDOW, LATER)
    counts = keyed.anchored_counts(
        log,
        uid,
        at,
        measure.anchored_needs(measured),
        window_days=analysis.settings.window_days,
        horizon_days=h,
        periods=periods,
        exclude_types=exclude,
    )
    counts = measure.AnchorCounts.from_counts(counts, log.names)
    n = len(frame)
    return counts.subset(slice(0, n)), counts.subset(slice(n, None))


def _cohort_rows(rows: list[dict], specs: list[InputSpec]) -> list[dict]:
    """Per input and signup cohort: n, effect with its 95% CI, and why a cohort was left out."""
    out = []
    for r in rows:
        lo, hi = r["effect"] - 1.959964 * r["se"], r["effect"] + 1.959964 * r["se"]
        out.append(
            {
                "key": specs[r["column"]].key,
                "cohort": r["cohort"],
                "n": r["n"],
                "effect": r["effect"],
                "ci_low": lo,
                "ci_high": hi,
                "note": r["note"],
            }
        )
    return out


def _evidence(specs: list[InputSpec], raw: np.ndarray, fits) -> list[InputEvidence]:
    inc, mar = fits.incremental, fits.marginal
    q, mq = bh_qvalues(inc.p), bh_qvalues(mar.p)
    lo, hi = inc.ci
    mlo, mhi = mar.ci
    out = []
    for j, s in enumerate(specs):
        pooled = fits.pooled[j]
        warnings = []
        if not np.isfinite(inc.effect[j]):
            warnings.append(
                "it does not vary among the users analysed (or follows the North "
                "Star's early level exactly)"
            )
        if pooled.get("sign_flip"):
            warnings.append("in some signup cohort the effect is clearly of the other sign")
        out.append(
            InputEvidence(
                key=s.key,
                name=s.name,
                kind=s.kind,
                owner=s.owner,
                definition=s.definition,
                target_low=s.target_low,
                target_high=s.target_high,
                measure=s.measure,
                transform=s.transform,
                baseline_mean=float(np.nanmean(raw[:, j])),
                n_users=int(inc.n[j]) if np.isfinite(inc.n[j]) else 0,
                lead_effect=float(inc.effect[j]),
                lead_se=float(inc.se[j]),
                lead_ci_low=float(lo[j]),
                lead_ci_high=float(hi[j]),
                p_value=float(inc.p[j]),
                q_value=float(q[j]),
                marginal_effect=float(mar.effect[j]),
                marginal_ci_low=float(mlo[j]),
                marginal_ci_high=float(mhi[j]),
                marginal_q=float(mq[j]),
                cohort_pooled=float(pooled["pooled_log_hr"]),
                cohort_i2=float(pooled["i2"]),
                same_sign_share=float(pooled["same_sign_share"]),
                n_cohorts=int(pooled["n_cohorts"]),
                sign_flip=bool(pooled["sign_flip"]),
                warnings=warnings,
            )
        )
    return out


def _judge(e: InputEvidence) -> None:
    e.verdict = lead_verdict(e.q_value, e.lead_effect, e.marginal_q, e.same_sign_share, e.n_cohorts)
    e.experiment_verdict = experiment_verdict(
        e.experiments_n, e.experiment_corr, e.experiment_ci_low, e.experiment_moved_p
    )
    e.edge = edge_strength(e.verdict, e.experiment_verdict)
    e.verdict_text = verdict_text(
        e.verdict, e.experiment_verdict, e.experiments_n, e.experiment_corr
    )


def _weekly(log, analysis, specs, ns, evidence, n_boot: int, seed: int) -> dict:
    """Weekly series, lag profiles (lag_corr filled in on the evidence) and decomposition."""
    events = sorted({e for s in [*specs, ns] for e in s.events})
    needs = weekly.needed_columns(specs, ns)
    counts = measure.weekly_counts(None, analysis.frame, events, analysis.as_of, log, needs)
    first = pd.to_datetime(analysis.frame["signup_sec"].min(), unit="s").date()
    counts = weekly.WeeklyCounts(weekly.whole_weeks(counts, first, analysis.as_of))
    if len(counts) < weekly.MIN_WEEKS + 2:
        return {
            "rows": [],
            "lags": [],
            "decomposition": [],
            "note": f"fewer than {weekly.MIN_WEEKS + 2} whole weeks of data",
        }
    ns_series = counts.series(ns)
    rows = pd.DataFrame(
        {
            "week_start": [weekly.week_start(x) for x in ns_series.index],
            "north_star": ns_series.to_numpy(),
        },
        index=ns_series.index,
    )
    parts = counts.breadth_depth(ns)
    decomposition = []
    if parts is not None:
        rows["users"], rows["per_user"] = parts[0].to_numpy(), parts[1].to_numpy()
        dec = weekly.decompose(*parts)
        dec["week"] = dec["week"].map(weekly.week_start)
        decomposition = dec.to_dict("records")
    lags = []
    for s, e in zip(specs, evidence, strict=True):
        x = counts.series(s)
        if x is None:
            e.warnings.append("it has no weekly product-level form")
            continue
        rows[s.key] = x.to_numpy()
        for lc in weekly.lag_profile(x, ns_series, seed, n_boot):
            lags.append(
                {
                    "key": s.key,
                    "lag": lc.lag,
                    "corr": lc.corr,
                    "ci_low": lc.ci_low,
                    "ci_high": lc.ci_high,
                    "n_weeks": lc.n_weeks,
                }
            )
            if lc.lag == weekly.LEAD_LAG and np.isfinite(lc.corr):
                e.lag_corr, e.lag_ci_low, e.lag_ci_high = lc.corr, lc.ci_low, lc.ci_high
                e.lag_weeks = lc.n_weeks
    return {
        "rows": rows.to_dict("records"),
        "lags": lags,
        "decomposition": decomposition,
        "lead_lag": weekly.LEAD_LAG,
    }


def _experiments(assigned, counts, analysis, specs, ns, evidence, h) -> dict:
    """Arm effects and the correlation of effects (experiment_* filled in on the evidence)."""
    a, left_out = assigned.assignments, assigned.left_out
    notes = list(a.notes)
    if assigned.kept.empty:
        notes.append(
            f"{a.label}: no assignment has {h + analysis.settings.window_days} days of "
            "follow-up; experiments are left out."
        )
        return {
            "arms": [],
            "correlations": [],
            "n_assignments": 0,
            "left_out": left_out,
            "notes": notes,
        }
    values = exp.assignment_values(assigned.kept, counts, specs, ns)
    keys = [s.key for s in specs]
    rows, arms = exp.arm_effects(values, a.controls, keys)
    correlations = []
    for s, e in zip(specs, evidence, strict=True):
        c = exp.effect_correlation(s.key, arms)
        correlations.append(c)
        e.experiments_n, e.experiment_corr = c.n_experiments, c.corr
        e.experiment_ci_low, e.experiment_ci_high = c.ci_low, c.ci_high
        e.experiment_raw_corr, e.experiment_slope = c.raw_corr, c.slope
        e.experiment_moved_p = c.moved_p
    return {
        "arms": [r.__dict__ for r in rows],
        "correlations": [c.__dict__ for c in correlations],
        "n_assignments": int(len(values)),
        "n_arms": len(arms),
        "left_out": left_out,
        "notes": notes,
    }
