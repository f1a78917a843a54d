"""The facts of a rationale page, built once from a decision record: plain strings and rows that
every renderer (the HTML export, Markdown, terminal text, the app's rationale page) shows in the
same order and words. Each renderer only escapes for its own format.

Order of the page: the North Star and its definition; why it won (rationale and the charts that
carry the argument); rejected alternatives with reasons and key numbers; how confident we are,
with caveats; input metrics; sign-offs; data fingerprint and settings; re-validations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..decisions.model import Decision, Revalidation
from ..text import num, when

FALLBACK_ROWS = 40
CAUSATION_CAVEAT = (
    "Association, not causation: users who reach more of this metric stay longer and pay more, "
    "but that does not prove that pushing the metric up causes retention. Confirm the levers "
    "(onboarding, prompts, features) by experiment before setting targets on it."
)


def candidates_by_key(decision: Decision) -> dict[str, dict]:
    return {c.get("key"): c for c in decision.evidence.ranking.get("candidates", []) or []}


def chosen_candidate(decision: Decision) -> dict:
    return candidates_by_key(decision).get(decision.chosen_key, {})


def _hr(c: Mapping) -> str:
    if c.get("hazard_ratio") is None:
        return "—"
    hr, lo, hi = (num(c.get(k), ".2f") for k in ("hazard_ratio", "hr_ci_low", "hr_ci_high"))
    return f"{hr} [{lo}–{hi}]"


def definition_rows(decision: Decision) -> list[tuple[str, str]]:
    """(label, value) of the metric definition, empty fields left out."""
    d = decision.definition
    cadence = d.review_cadence + (f" ({d.milestone})" if d.milestone else "")
    rows = [
        ("Meaning", d.meaning),
        ("Numerator", d.numerator),
        ("Denominator", d.denominator),
        ("Time window", d.time_window),
        ("Exclusions", d.exclusions),
        ("Owner", d.owner),
        ("Baseline", d.baseline),
        ("Target", d.target),
        ("Review cadence", cadence),
        ("Candidate key", decision.chosen_key),
    ]
    return [(label, value) for label, value in rows if value and str(value).strip()]


def record_line(decision: Decision) -> str:
    by = f" by {decision.created_by}" if decision.created_by else ""
    recorded = when(decision.created_at)
    return f"Decision #{decision.id or '—'}, version {decision.version}, recorded {recorded}{by}"


COMPARISON_COLUMNS = (
    ("Rank", lambda c: num(c.get("rank"), ".0f")),
    ("Score", lambda c: num(c.get("score"), ".3f")),
    ("C", lambda c: num(c.get("c_index"), ".3f")),
    ("HR per SD [95% CI]", _hr),
    ("Revenue ρ", lambda c: num(c.get("revenue_rho"), "+.2f")),
    ("q", lambda c: num(c.get("q_value"), ".2g")),
    ("P(first)", lambda c: num(c.get("p_first"), ".0%")),
)


def comparison_rows(decision: Decision) -> list[dict]:
    """The chosen metric, then each rejected alternative: name, role, reason, key numbers.

    `candidate` is the ranking's technical name when it differs from the name given (else "").
    Numbers come from the evidence snapshot's ranking; those missing there from the
    alternative's own stored evidence.
    """
    cands = candidates_by_key(decision)
    chosen = cands.get(decision.chosen_key, {})
    rows = [
        {
            "role": "chosen",
            "name": decision.definition.name,
            "candidate": _other(chosen.get("name", decision.chosen_key), decision.definition.name),
            "reason": "Chosen North Star",
            "numbers": {label: f(chosen) for label, f in COMPARISON_COLUMNS},
        }
    ]
    for r in decision.rejected:
        known = {k: v for k, v in cands.get(r.key, {}).items() if v is not None}
        c = {**(r.evidence or {}), **known}
        rows.append(
            {
                "role": "rejected",
                "name": r.name,
                "candidate": _other(c.get("name", r.key), r.name),
                "reason": r.reason,
                "numbers": {label: f(c) for label, f in COMPARISON_COLUMNS},
            }
        )
    return rows


def _other(candidate_name: str, given_name: str) -> str:
    return "" if str(candidate_name).strip() == str(given_name).strip() else str(candidate_name)


def confidence_lines(decision: Decision) -> list[str]:
    """How sure we are about the chosen metric, in sentences with the numbers."""
    c = chosen_candidate(decision)
    if not c:
        return [
            f"The chosen metric ({decision.chosen_key}) is not in the recorded ranking, so "
            "there are no figures to report."
        ]
    ranking = decision.evidence.ranking
    n_boot = decision.evidence.settings.get("n_bootstrap") or ranking.get("settings", {}).get(
        "n_bootstrap"
    )
    resamples = f"{n_boot} bootstrap resamples" if n_boot else "the bootstrap resamples"
    median = c.get("median_rank")
    lines = [
        f"It ranked first in {num(c.get('p_first'), '.0%')} of {resamples}"
        + (f" (median rank {num(median, '.1f')})" if median is not None else "")
        + (
            "; it is statistically tied with the leader."
            if c.get("tied_with_leader") and c.get("rank") != 1
            else "."
        )
    ]
    n, events = c.get("n") or ranking.get("n_users"), c.get("n_events") or ranking.get("n_churned")
    lines.append(
        f"Retention: hazard ratio {_hr(c)} per standard deviation (below 1 = fewer churns), "
        f"concordance C {num(c.get('c_index'))}, q {num(c.get('q_value'), '.2g')}"
        + (f", among {int(n):,} users of whom {int(events):,} churned." if n and events else ".")
    )
    if c.get("revenue_rho") is not None:
        ci = ""
        if c.get("revenue_rho_ci_low") is not None:
            lo, hi = (num(c.get(k), ".2f") for k in ("revenue_rho_ci_low", "revenue_rho_ci_high"))
            ci = f" (95% CI {lo}–{hi})"
        users = f" over {int(c['n_revenue']):,} users" if c.get("n_revenue") else ""
        lines.append(f"Revenue: Spearman ρ {num(c['revenue_rho'], '+.2f')}{ci}{users}.")
    f = c.get("threshold_figures")
    if f:
        lines.append(
            "Threshold, judged on held-out users: "
            f"those reaching ≥ {num(f.get('k'), 'g')} ({num(f.get('share_above'), '.0%')} of "
            f"them) were retained {num(f.get('retention_above'), '.0%')} "
            f"{_ci_pct(f.get('retention_above_ci'))} vs {num(f.get('retention_below'), '.0%')} "
            f"{_ci_pct(f.get('retention_below_ci'))} at day {num(f.get('horizon_days'), 'g')} "
            f"after the window (log-rank p {num(f.get('logrank_p'), '.2g')}); they stayed "
            f"{num(f.get('rmst_difference'), '.1f')} ± {num(f.get('rmst_difference_se'), '.1f')}"
            " more days on average (ΔRMST)."
        )
    return lines


def _ci_pct(ci) -> str:
    if not ci or len(ci) != 2:
        return ""
    return f"[{num(ci[0], '.0%')}–{num(ci[1], '.0%')}]"


def caveats(decision: Decision) -> list[str]:
    """Standing caveats, then every warning stored on the chosen candidate and the ranking."""
    c = chosen_candidate(decision)
    split = decision.evidence.settings.get("threshold_split")
    out = [
        CAUSATION_CAVEAT,
        "Thresholds were chosen on training users and judged on held-out ones"
        + (f" ({split} split)" if split else "")
        + "; the threshold figures above are the held-out ones, so they are not flattered by "
        "the choice.",
    ]
    out += [str(w) for w in c.get("warnings", []) or []]
    out += [f"Analysis: {w}" for w in decision.evidence.ranking.get("warnings", []) or []]
    return out


def population_line(decision: Decision) -> str:
    r = decision.evidence.ranking
    if not r.get("n_users"):
        return ""
    excluded = ", ".join(
        f"{k.replace('_', ' ')} {v:,}" for k, v in (r.get("excluded") or {}).items() if v
    )
    churned = r.get("n_churned") or 0
    return (
        f"{r['n_users']:,} users in the retention analysis, {churned:,} churned; "
        f"excluded: {excluded or 'none'}."
    )


def input_table(decision: Decision) -> tuple[list[str], list[tuple], str]:
    """(header, rows, text when empty) of the input metrics and their owners."""
    rows = [(m.name, m.kind, m.owner, m.definition) for m in decision.input_metrics]
    return ["Input metric", "Kind", "Owner", "Definition"], rows, "None recorded."


def signoff_table(decision: Decision) -> tuple[list[str], list[tuple], str]:
    rows = [(s.name, s.role) for s in decision.sign_offs]
    return ["Name", "Role"], rows, "No sign-offs recorded."


def revalidation_table(revalidations: Sequence[Revalidation]) -> tuple[list[str], list, str]:
    """(header, rows, text when empty) of the re-validations, in the order given."""
    rows = [
        (
            when(r.run_at),
            r.verdict + (f" by {r.overtaken_by}" if r.overtaken_by else ""),
            f"#{r.decision_id}",
            r.summary,
            r.rule,
        )
        for r in revalidations
    ]
    return ["Run", "Verdict", "Decision judged", "Summary", "Rule"], rows, "Not re-validated yet."


def compact(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return "—" if value is None else str(value)


def rubric_table(rubric: Mapping[str, Any]) -> tuple[list[str], list[list[Any]], str]:
    """The workshop's 1–5 scores and the combined ordering as one table, plus the weights."""
    from ..decisions.workshop import CRITERIA

    combined = {r.get("key"): r for r in rubric.get("ordering", [])}
    header = ["Candidate", *(label for label, _ in CRITERIA.values()), "Evidence", "Combined"]
    scores = sorted(
        rubric.get("scores", []),
        key=lambda s: -float(combined.get(s.get("key"), {}).get("combined", 0.0)),
    )
    rows = []
    for s in scores:
        o = combined.get(s.get("key"), {})
        rows.append(
            [
                s.get("candidate", s.get("key", "")),
                *(s.get(c, "") for c in CRITERIA),
                f"{o['evidence']:.2f}" if "evidence" in o else "",
                f"{o['combined']:.2f}" if "combined" in o else "",
            ]
        )
    weights = rubric.get("criteria_weights", {})
    w_text = ", ".join(f"{CRITERIA[k][0]} ×{v:g}" for k, v in weights.items() if k in CRITERIA)
    ev = rubric.get("evidence_weight")
    note = (
        f"Scores 1–5. Combined = {ev:g}·evidence + {1 - ev:g}·rubric (weights: {w_text})."
        if ev is not None
        else ""
    )
    return header, rows, note


def cell_text(v: Any) -> str:
    if isinstance(v, float):
        return num(v, ".4g")
    return compact(v)
