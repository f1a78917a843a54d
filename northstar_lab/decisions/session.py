"""The workshop's working state: one typed object for everything a meeting has entered.

A workshop is two hours, a projector and five to ten people; its state must survive a reload,
a settings change and a second laptop. `WorkshopState` holds what people chose or typed — the
dataset reference, the analysis settings, the shortlist, the rubric weights, chart selections
and the draft record — and nothing computed: labels, candidate names and pre-filled text are
derived from the current analysis every time they are shown, so they can never describe an
analysis other than the one on screen.

The analysis is identified by `analysis_id` (the data fingerprint plus the settings). A draft
remembers the analysis its *edits* were written on (`Draft.stamp`); when the analysis on screen
is another one, `draft_changes` says in words what changed, and the draft cannot be recorded
until someone refreshes it or confirms the edits still hold.

The state serialises to one JSON object (`to_dict` / `from_dict`), which is what a workshop
session in the decision database stores (`DecisionStore.save_workshop_state`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import secrets
from dataclasses import dataclass, field
from typing import Any

from ..results import RankingResult, jsonable
from .model import MetricDefinition
from .workshop import CRITERIA, DEFAULT_CRITERIA_WEIGHTS, DEFAULT_EVIDENCE_WEIGHT

#: Fields of the record form that are pre-filled from the evidence (and re-derived from the
#: current analysis unless someone edited them).
PREFILLED = (
    "title",
    "name",
    "meaning",
    "numerator",
    "denominator",
    "time_window",
    "exclusions",
    "rationale",
)
#: Fields only people can fill: never pre-filled, never stale.
TYPED = ("owner", "baseline", "target", "review_cadence", "milestone")
#: Definition fields among the form's fields: MetricDefinition's own, so a field added there
#: is kept in the record without a second list to update.
DEFINITION_FIELDS = tuple(f.name for f in dataclasses.fields(MetricDefinition))
FIELD_LABELS = {
    "title": "decision title",
    "name": "metric name",
    "meaning": "meaning",
    "numerator": "numerator",
    "denominator": "denominator",
    "time_window": "time window",
    "exclusions": "exclusions",
    "rationale": "rationale",
    "owner": "owner",
    "baseline": "current baseline",
    "target": "target",
    "review_cadence": "review cadence",
    "milestone": "milestone",
}


def analysis_id(fingerprint: dict, settings: dict) -> str:
    """A short stable id of one analysis: the data's fingerprint plus the frozen settings."""
    text = json.dumps(
        {"data": jsonable(fingerprint), "settings": jsonable(settings)}, sort_keys=True
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def ranking_id(ranking: RankingResult) -> str:
    """`analysis_id` of the analysis behind a ranking."""
    return analysis_id(ranking.data.fingerprint, ranking.settings.to_dict())


@dataclass(frozen=True)
class AnalysisStamp:
    """The few facts about an analysis that a draft's words depend on, to say what changed."""

    analysis_id: str
    window_days: int
    horizon_days: int
    inactivity_days: int
    as_of: str | None
    n_users: int
    n_churned: int
    chosen_key: str | None = None
    chosen_name: str | None = None
    hazard_ratio: float | None = None
    c_index: float | None = None
    revenue_rho: float | None = None
    threshold: float | None = None
    churn_event: str | None = None

    @classmethod
    def of(cls, ranking: RankingResult, chosen_key: str | None = None) -> AnalysisStamp:
        c = ranking.find(chosen_key) if chosen_key else None
        s = ranking.settings
        return cls(
            analysis_id=ranking_id(ranking),
            window_days=s.window_days,
            horizon_days=s.horizon_days,
            inactivity_days=s.inactivity_days,
            as_of=ranking.data.as_of,
            n_users=ranking.n_users,
            n_churned=ranking.n_churned,
            chosen_key=chosen_key,
            chosen_name=c.name if c else None,
            hazard_ratio=_finite(c.hazard_ratio) if c else None,
            c_index=_finite(c.c_index) if c else None,
            revenue_rho=_finite(c.revenue_rho) if c else None,
            threshold=_finite(c.threshold) if c else None,
            churn_event=s.churn_event,
        )

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict | None) -> AnalysisStamp | None:
        if not d:
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def _finite(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def stamp_changes(old: AnalysisStamp | None, new: AnalysisStamp) -> list[str]:
    """What differs between the analysis a draft was written on and the current one, in words.

    Empty when they are the same analysis. A change of data alone (same settings and figures)
    is still named, so a changed file is never recorded silently.
    """
    if old is None or old.analysis_id == new.analysis_id:
        return []
    out = []

    def change(what: str, a, b, fmt: str = "{}") -> None:
        if a != b:
            out.append(f"{what}: {_fmt(a, fmt)} → {_fmt(b, fmt)}")

    change("observation window", old.window_days, new.window_days, "{} days")
    change("horizon", old.horizon_days, new.horizon_days, "{} days")
    change("inactivity that means churn", old.inactivity_days, new.inactivity_days, "{} days")
    change("churn event", old.churn_event or "none", new.churn_event or "none")
    change("data as of", old.as_of, new.as_of)
    change("users in the analysis", old.n_users, new.n_users, "{:,}")
    change("churned users", old.n_churned, new.n_churned, "{:,}")
    if old.chosen_key == new.chosen_key and new.chosen_key:
        change("metric name", old.chosen_name, new.chosen_name)
        change("hazard ratio per SD", _r(old.hazard_ratio), _r(new.hazard_ratio), "{:.2f}")
        change("concordance", _r(old.c_index, 3), _r(new.c_index, 3), "{:.3f}")
        change("revenue ρ", _r(old.revenue_rho), _r(new.revenue_rho), "{:.2f}")
        change("threshold", old.threshold, new.threshold, "{:g}")
    elif old.chosen_key != new.chosen_key:
        change("chosen metric", old.chosen_name or old.chosen_key, new.chosen_name)
    if not out:
        out.append("the data or settings changed (same headline figures)")
    return out


def _r(x, digits: int = 2):
    return None if x is None else round(float(x), digits)


def _fmt(value, fmt: str) -> str:
    if value is None:
        return "—"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


@dataclass
class Draft:
    """The decision record being written: only what people typed or changed.

    overrides: form field → text, for fields whose value differs from the pre-fill (see
    `PREFILLED`, `TYPED`); reasons: rejected key → reason, only where someone edited it;
    input_metrics / sign_offs: rows as typed. stamp: the analysis the overrides were written on
    (None while nothing pre-filled was edited). idempotency_key: one per draft, so one click
    records one decision however often it is sent; a new one after each recording.
    """

    overrides: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    input_metrics: list[dict] = field(default_factory=list)
    sign_offs: list[dict] = field(default_factory=list)
    stamp: AnalysisStamp | None = None
    idempotency_key: str = field(default_factory=lambda: new_key())
    revision: int = 0  # bumped when the draft is refreshed, so the form shows the new text
    recorded_as: int | None = None  # the decision this draft became (then it is read-only)

    def to_dict(self) -> dict:
        d = jsonable(dataclasses.asdict(self))
        d["stamp"] = self.stamp.to_dict() if self.stamp else None
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> Draft:
        d = dict(d or {})
        return cls(
            overrides={str(k): str(v) for k, v in (d.get("overrides") or {}).items()},
            reasons={str(k): str(v) for k, v in (d.get("reasons") or {}).items()},
            input_metrics=[dict(m) for m in d.get("input_metrics") or []],
            sign_offs=[dict(s) for s in d.get("sign_offs") or []],
            stamp=AnalysisStamp.from_dict(d.get("stamp")),
            idempotency_key=str(d.get("idempotency_key") or new_key()),
            revision=int(d.get("revision") or 0),
            recorded_as=int(d["recorded_as"]) if d.get("recorded_as") is not None else None,
        )

    def edited_prefills(self) -> list[str]:
        """Pre-filled fields (and reasons) someone changed: what may describe an old analysis."""
        out = [FIELD_LABELS[f] for f in PREFILLED if f in self.overrides]
        if self.reasons:
            out.append("reasons for rejected alternatives")
        return out


def new_key() -> str:
    return secrets.token_urlsafe(16)


def form_values(draft: Draft, prefill: dict[str, str]) -> dict[str, str]:
    """What the record form shows: the current pre-fill, overridden by what people typed."""
    return {"review_cadence": "quarterly", **prefill, **draft.overrides}


def apply_edit(draft: Draft, name: str, value: str, prefill: dict[str, str], now: AnalysisStamp):
    """Record one form field as typed. A value equal to the pre-fill is no edit (the field
    keeps following the analysis); the first edit of a pre-filled field stamps the draft with
    the analysis it was written on."""
    base = prefill.get(name, "quarterly" if name == "review_cadence" else "")
    if value == base:
        draft.overrides.pop(name, None)
        return
    draft.overrides[name] = value
    if name in PREFILLED and draft.stamp is None:
        draft.stamp = now


def apply_reason(draft: Draft, key: str, value: str, prefilled: str, now: AnalysisStamp) -> None:
    """Record the reason typed for one rejected alternative (as `apply_edit`)."""
    if value.strip() == prefilled.strip():
        draft.reasons.pop(key, None)
        return
    draft.reasons[key] = value
    if draft.stamp is None:
        draft.stamp = now


def draft_changes(draft: Draft, now: AnalysisStamp) -> list[str]:
    """What changed since the draft's edits were written, in words (empty = not stale)."""
    if draft.stamp is None or not draft.edited_prefills():
        return []
    return stamp_changes(draft.stamp, now)


def refresh_draft(draft: Draft) -> Draft:
    """The draft with its edits of pre-filled text dropped (they follow the current analysis
    again); what only people fill (owner, baseline, target, inputs, sign-offs) is kept."""
    return dataclasses.replace(
        draft,
        overrides={k: v for k, v in draft.overrides.items() if k not in PREFILLED},
        reasons={},
        stamp=None,
        revision=draft.revision + 1,
    )


def confirm_draft(draft: Draft, now: AnalysisStamp) -> Draft:
    """The draft with its edits confirmed for the current analysis (someone checked them)."""
    return dataclasses.replace(draft, stamp=now)


def next_draft(draft: Draft) -> Draft:
    """After a recording: a new draft (new idempotency key) that starts from the same text."""
    return dataclasses.replace(
        draft, idempotency_key=new_key(), recorded_as=None, revision=draft.revision + 1
    )


@dataclass
class WorkshopState:
    """Everything the workshop has chosen or typed (see the module docstring).

    dataset: the dataset reference the app resolves and loads (a JSON object, see
    `pages/shared.py`); settings: `AnalysisSettings.to_dict()` ({} = defaults); shortlist:
    candidate keys (None = the default shortlist of the current analysis); shortlist_names: key →
    name as last shown, so participants can score without loading the data; rubric: the
    facilitator's own 1–5 scores (candidate key → criterion → score); selected: the candidates
    the charts show; adjust_for: covariates of the adjusted view; recorded: decision ids recorded
    from this workshop, newest last; facilitator_key: the secret in the facilitator's link
    (participants' links carry only the workshop id).
    """

    title: str = ""
    facilitator_key: str = ""
    dataset: dict | None = None
    settings: dict = field(default_factory=dict)
    shortlist: list[str] | None = None
    shortlist_names: dict[str, str] = field(default_factory=dict)
    chosen_key: str | None = None
    rubric: dict[str, dict[str, int]] = field(default_factory=dict)
    criteria_weights: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_CRITERIA_WEIGHTS)
    )
    evidence_weight: float = DEFAULT_EVIDENCE_WEIGHT
    selected: list[str] = field(default_factory=list)
    adjust_for: list[str] = field(default_factory=list)
    draft: Draft = field(default_factory=Draft)
    recorded: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["draft"] = self.draft.to_dict()
        return jsonable(d)

    @classmethod
    def from_dict(cls, d: dict | None) -> WorkshopState:
        """Inverse of `to_dict`; unknown keys are ignored, missing ones take their defaults,
        and scores outside 1–5 are clamped (a stored state is never trusted blindly)."""
        d = dict(d or {})
        weights = {**DEFAULT_CRITERIA_WEIGHTS}
        for k, v in (d.get("criteria_weights") or {}).items():
            if k in CRITERIA:
                weights[k] = _weight(v, weights[k])
        shortlist = d.get("shortlist")
        return cls(
            title=str(d.get("title") or ""),
            facilitator_key=str(d.get("facilitator_key") or ""),
            dataset=dict(d["dataset"]) if d.get("dataset") else None,
            settings=dict(d.get("settings") or {}),
            shortlist=None if shortlist is None else [str(k) for k in shortlist],
            shortlist_names={str(k): str(v) for k, v in (d.get("shortlist_names") or {}).items()},
            chosen_key=d.get("chosen_key") or None,
            rubric=clean_scores(d.get("rubric") or {}),
            criteria_weights=weights,
            evidence_weight=min(max(_weight(d.get("evidence_weight"), 0.5), 0.0), 1.0),
            selected=[str(k) for k in d.get("selected") or []],
            adjust_for=[str(k) for k in d.get("adjust_for") or []],
            draft=Draft.from_dict(d.get("draft")),
            recorded=[int(i) for i in d.get("recorded") or []],
        )


def _weight(value, default: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) and x >= 0 else default


def clean_scores(scores: Any) -> dict[str, dict[str, int]]:
    """Rubric scores as {candidate key: {criterion: 1–5}}: unknown criteria dropped, values
    rounded and clamped to 1–5, anything unreadable left out."""
    out: dict[str, dict[str, int]] = {}
    if not isinstance(scores, dict):
        return out
    for key, row in scores.items():
        if not isinstance(row, dict):
            continue
        clean = {}
        for crit, value in row.items():
            if crit not in CRITERIA:
                continue
            try:
                x = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(x):
                clean[crit] = int(min(max(round(x), 1), 5))
        if clean:
            out[str(key)] = clean
    return out


def valid_keys(keys: list[str] | None, ranking: RankingResult) -> list[str]:
    """The keys the current ranking knows, in the order given (selections outlive analyses:
    a key the new analysis has not got is dropped, never shown under an old label)."""
    known = {c.key for c in ranking.candidates}
    return [k for k in dict.fromkeys(keys or []) if k in known]


def names_of(ranking: RankingResult) -> dict[str, str]:
    """Candidate key → display name in the current ranking (labels always come from here)."""
    return {c.key: c.name for c in ranking.candidates}


# ---- from the state to a decision ---------------------------------------------------------------


def draft_decision(
    analysis,
    ws: WorkshopState,
    shortlist: list[str],
    chosen_key: str,
    team,
    created_by: str = "",
):
    """The decision record the draft describes, on the current analysis: the form's values
    (pre-fill + edits), the reasons as typed or pre-filled, the team's median rubric and every
    participant's own scores (`team` is a `workshop.TeamRubric`)."""
    from . import workshop

    values = form_values(ws.draft, workshop.prefilled_fields(analysis, chosen_key))
    return workshop.build_decision(
        analysis,
        chosen_key=chosen_key,
        shortlist=shortlist,
        title=values["title"],
        definition={k: values.get(k, "") for k in DEFINITION_FIELDS},
        rationale=values["rationale"],
        reasons=ws.draft.reasons,
        input_metrics=ws.draft.input_metrics,
        sign_offs=ws.draft.sign_offs,
        rubric=team.median,
        criteria_weights=ws.criteria_weights,
        evidence_weight=ws.evidence_weight,
        participants=team.to_record(),
        created_by=created_by,
    )


def recording_problems(ws: WorkshopState, values: dict[str, str], now: AnalysisStamp) -> list[str]:
    """Why the draft cannot be recorded yet, in words: what is missing, and a draft whose
    edits were written on another analysis (it must be refreshed or confirmed first)."""
    from .workshop import record_problems

    problems = record_problems(values, ws.draft.sign_offs)
    changes = draft_changes(ws.draft, now)
    if changes:
        problems.insert(
            0,
            "The draft's edited text was written on another analysis ("
            + "; ".join(changes)
            + "). Refresh the draft, or confirm that your edits still hold.",
        )
    return problems
