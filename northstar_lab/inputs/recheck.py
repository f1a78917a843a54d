"""Re-validation of the tree: does each recorded input still lead the North Star? (METHODS §9.6)

Every input recorded with a key is measured again on the new data with the same definitions
(window, horizon, North Star), and its verdict now is set beside its verdict then:

- **still leads** / **no longer leads** — it led then (verdict "leads"), and does / does not now;
- **now leads** / **still does not lead** — it did not lead then, and does / does not now;
- **leads now** / **does not lead now** — no evidence was recorded for it then;
- **cannot be measured** — its events are missing from the new data (the reason is given).

Inputs written in words only (no key) are listed as "not measured". The user-level lead is
re-checked; the weekly series and experiments are not (they need their own data).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import InputError
from ..results import jsonable
from .result import InputEvidence

LEADS = "leads"


@dataclass
class EdgeCheck:
    """One input's verdict then and now."""

    key: str
    name: str
    owner: str
    status: str
    then_verdict: str | None
    then_effect: float | None
    now_verdict: str | None
    now_effect: float | None
    now_ci_low: float | None
    now_ci_high: float | None
    now_q: float | None
    note: str = ""

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))


def _status(then: str | None, now: str) -> str:
    if then is None:
        return "leads now" if now == LEADS else "does not lead now"
    if then == LEADS:
        return "still leads" if now == LEADS else "no longer leads"
    return "now leads" if now == LEADS else "still does not lead"


def recheck_inputs(decision, analysis, loaded) -> list[dict]:
    """EdgeCheck rows (as dicts) for the decision's input metrics on `analysis`' data.

    The measurable inputs are analysed together (q-values over them); an input that cannot be
    measured gets a row saying why, so re-validation never fails for an input's sake.
    """
    from . import measure
    from .analyse import analyse_inputs
    from .define import parse_input

    rows, measurable = [], []
    names = measure.event_names(analysis)
    for m in decision.input_metrics:
        then = InputEvidence.from_dict(m.evidence) if m.evidence else None
        if not m.key:
            rows.append(_row(m, "not measured", then, note="recorded in words only"))
            continue
        try:
            parse_input(m.key, analysis.settings.window_days, names)
        except InputError as exc:
            rows.append(_row(m, "cannot be measured", then, note=str(exc)))
            continue
        measurable.append((m, then))
    if not measurable:
        return rows
    horizon = decision.evidence.inputs.get("horizon_days") or None
    try:
        result = analyse_inputs(
            analysis,
            loaded,
            decision.chosen_key,
            [m.key for m, _ in measurable],
            horizon_days=horizon,
            weekly_series=False,
        )
    except InputError as exc:
        return rows + [_row(m, "cannot be measured", t, note=str(exc)) for m, t in measurable]
    for m, then in measurable:
        now = result.evidence(m.key)
        rows.append(_row(m, _status(then.verdict if then else None, now.verdict), then, now))
    return rows


def _row(
    m, status: str, then: InputEvidence | None, now: InputEvidence | None = None, note: str = ""
) -> dict:
    return EdgeCheck(
        key=m.key,
        name=m.name,
        owner=m.owner,
        status=status,
        then_verdict=then.verdict if then else None,
        then_effect=then.lead_effect if then else None,
        now_verdict=now.verdict if now else None,
        now_effect=now.lead_effect if now else None,
        now_ci_low=now.lead_ci_low if now else None,
        now_ci_high=now.lead_ci_high if now else None,
        now_q=now.q_value if now else None,
        note=note,
    ).to_dict()


def recheck_summary(rows: list[dict]) -> str:
    """One sentence: how many recorded inputs still lead, and which ones stopped."""
    if not rows:
        return "No input metrics were recorded."
    leading = [r for r in rows if r["status"] in ("still leads", "now leads", "leads now")]
    lost = [r["name"] for r in rows if r["status"] == "no longer leads"]
    text = f"{len(leading)} of {len(rows)} input metrics lead the North Star on the new data"
    if lost:
        text += f"; no longer leading: {', '.join(lost)}"
    return text + "."
