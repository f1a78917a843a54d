"""Fixed-width terminal output of the command line: the leaderboard, a decision list and history,
a re-validation. Every name that came from data is passed through `text.plain` (no control or
escape sequences reach the terminal).
"""

from __future__ import annotations

import textwrap

import numpy as np

from ..decisions.model import ComparisonRow, Decision, Revalidation, Standing
from ..ranking.flags import GUARDRAIL_WORDS, flag_legend
from ..results import CandidateResult, PopulationFigures, RankingResult
from ..text import duration_words, num, plain, when


def format_leaderboard(ranking: RankingResult, top: int = 15) -> str:
    """A readable leaderboard for a terminal (fixed-width, plain text, no escape sequences)."""
    excluded = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in ranking.excluded.items() if v)
    lines = [
        f"North Star Lab — {ranking.n_users:,} users in the retention analysis, "
        f"{ranking.n_churned:,} churned; excluded: {excluded or 'none'}",
        "",
        HEADER,
    ]
    guardrails = ranking.guardrails
    keys = {c.key for c in guardrails}
    board = [c for c in ranking.candidates if c.key not in keys]
    lines += [_row(c) for c in board[:top]]
    if len(board) > top:
        lines.append(f"     … {len(board) - top} more (see --json)")
    if not ranking.leaders:
        lines.append("     No candidate to grow: each is a guardrail or a lifetime total.")
    lines += _guardrail_lines(guardrails, top)
    lines += _gap_lines(ranking)
    lines += _population_lines(ranking.data.population)
    lines += _leader_lines(ranking.leader, ranking.data.duration_unit)
    if ranking.warnings:
        lines += ["", "Warnings:"] + [
            textwrap.fill(plain(w), 100, initial_indent="  - ", subsequent_indent="    ")
            for w in ranking.warnings
        ]
    lines += ["", *textwrap.wrap(flag_legend(), 100, subsequent_indent="  ")]
    lines += ["", "Association, not causation: these metrics predict retention; test levers."]
    return "\n".join(lines)


HEADER = (
    f"{'#':>3}  {'candidate':<52} {'score':>6} {'HR/SD [95% CI]':>20} {'C':>6} "
    f"{'q':>8} {'rev ρ':>6} {'P(1st)':>6}  flags"
)


def _row(c: CandidateResult) -> str:
    """One leaderboard line (C is Harrell's, in the direction the hazard ratio points)."""
    hr = f"{c.hazard_ratio:.2f} [{c.hr_ci_low:.2f}–{c.hr_ci_high:.2f}]"
    if c.hr_bound:  # perfect separation: only a bound is known
        hr = f"{'<' if c.hr_bound == 'upper' else '>'} {c.hazard_ratio:.2g} (bound)"
    rho = "—" if c.revenue_rho is None else f"{c.revenue_rho:+.2f}"
    return (
        f"{c.rank:>3}  {plain(c.name, 52, one_line=True):<52} {c.score:>6.3f} {hr:>20} "
        f"{c.c_index:>6.3f} {c.q_value:>8.2g} {rho:>6} {_share(c.p_first):>6}  "
        f"{' · '.join(c.flags)}"
    )


def _guardrail_lines(guardrails: list[CandidateResult], top: int) -> list[str]:
    """The guardrails' own section: counter-metrics, strongest first, never ranked first."""
    if not guardrails:
        return []
    lines = ["", f"Guardrails — {GUARDRAIL_WORDS}:", HEADER]
    lines += [_row(c) for c in guardrails[:top]]
    if len(guardrails) > top:
        lines.append(f"     … {len(guardrails) - top} more (see --json)")
    return lines


def _gap_lines(ranking: RankingResult) -> list[str]:
    """How the top five candidates to grow move for inactivity gaps of 7, 14 and 28 days."""
    moves = ranking.gap_moves()
    runs = ranking.gap_sensitivity
    if not (moves and runs):
        return []
    gaps = [g.gap_days for g in runs]
    g_main = ranking.settings.inactivity_days
    lines = [
        "",
        f"Inactivity gap: how the top five move (rank with churn after {g_main} silent days,",
        "and re-ranked with other gaps: effect sizes only, every flag applied):",
        f"     {'candidate':<52} {f'g={g_main}':>5}" + "".join(f" {f'g={g}':>5}" for g in gaps),
    ]
    for m in moves:
        name = plain(m.name, 52, one_line=True)
        cells = "".join(f" {_rank(m.gap_ranks.get(g)):>5}" for g in gaps)
        lines.append(f"     {name:<52} {m.rank:>5}{cells}")
    if any(m.via for m in moves):
        lines.append("     (for other gaps a '≥ k' row shows the rank of the count it thresholds)")
    for g in runs:
        if g.error:
            lines.append(f"     g={g.gap_days}: {plain(g.error, 90, one_line=True)}")
    return lines


def _rank(r: int | None) -> str:
    return "—" if r is None else str(r)


def _population_lines(pop: PopulationFigures | None) -> list[str]:
    if pop is None:
        return []
    lines = [
        "",
        f"Statistics use a {pop.sample_fraction:.1%} hash sample of users; on all "
        f"{pop.n_users:,} users (counted in the engine) {pop.n_churned:,} churned and "
        f"{num(pop.retention_at_horizon, '.1%')} were retained at the horizon.",
    ]
    for b in pop.by_threshold:
        lines.append(
            f"  all users, {plain(b.key, one_line=True)} ≥ {b.k:g}: "
            f"{num(b.retention_above, '.1%')} retained vs {num(b.retention_below, '.1%')} "
            f"({b.n_above:,} users at/above)"
        )
    return lines


def _leader_lines(lead: CandidateResult, unit: str | None = None) -> list[str]:
    f = lead.threshold_figures
    if f is None or lead.is_guardrail or lead.is_lifetime_total:
        return []
    return [
        "",
        f"Leader: {plain(lead.name, one_line=True)}. On held-out users, those reaching "
        f"≥ {f.k:g} ({f.share_above:.0%}) kept {f.retention_above:.0%} vs "
        f"{f.retention_below:.0%} {duration_words(f.horizon_days, unit)} after the window "
        f"(log-rank p {f.logrank_p:.2g}).",
    ]


def _share(x: float) -> str:
    return "—" if x is None or x != x else f"{x:.2f}"


def format_decision_list(rows: list[dict], path: object = "") -> str:
    """Fixed-width table of decision summaries for a terminal."""
    if not rows:
        return f"No decisions recorded yet in {path}."
    names = [plain(r["chosen_name"], 48) for r in rows]
    titles = [plain(r["title"], 40) for r in rows]
    wn, wt = max(10, *map(len, names)), max(5, *map(len, titles))
    lines = [
        f"Decisions in {path} (latest version of each, newest first):",
        "",
        f"{'id':>4}  {'ver':<4} {'recorded (UTC)':<16}  {'North Star':<{wn}}  {'title':<{wt}}  "
        "last re-validation",
    ]
    for r, name, title in zip(rows, names, titles, strict=True):
        check = "—"
        if r["latest_verdict"]:
            check = f"{r['latest_verdict']} ({(r['revalidated_at'] or '')[:10]})"
        lines.append(
            f"{r['id']:>4}  {'v' + str(r['version']):<4} {when(r['created_at']):<16}  "
            f"{name:<{wn}}  {title:<{wt}}  {check}"
        )
    return "\n".join(lines)


def format_history(versions: list[Decision], current: int | None) -> str:
    """One line per version, oldest first; → marks the one shown."""
    lines = ["", "VERSIONS"]
    for d in versions:
        mark = "→" if d.id == current else " "
        note = f" — {d.amendment_note}" if d.amendment_note else ""
        text = f"v{d.version} #{d.id} {when(d.created_at)} UTC {d.definition.name}{note}"
        lines.append(f"  {mark} {plain(text, 94)}")
    return "\n".join(lines)


def format_revalidation(decision: Decision, reval: Revalidation) -> str:
    """The verdict, its summary, then vs now for each compared candidate (with the change, its
    interval and the finding in words), how the uncertainty was measured, and the rule."""
    head = f"VERDICT: {reval.verdict.upper()}"
    if reval.overtaken_by:
        head += f" (by {plain(reval.overtaken_by, one_line=True)})"
    if reval.same_data:
        head += " — same data as the decision"
    lines = [
        plain(f"Decision #{decision.id} — {decision.definition.name}", one_line=True),
        head,
        *textwrap.wrap(plain(reval.summary), 100),
        "",
    ]
    for r in reval.comparison:
        lines += _comparison_lines(r, reval.level)
    if reval.uncertainty:
        lines += ["", *textwrap.wrap("Uncertainty: " + plain(reval.uncertainty), 100)]
    if reval.inputs:  # inputs.recheck: does each recorded input still lead the North Star?
        lines += ["", "Input metrics:"]
        lines += [
            f"  {plain(r['name'], 46, one_line=True):<46} {r['status']}" for r in reval.inputs
        ]
    lines += ["", *textwrap.wrap("Rule: " + plain(reval.rule), 100)]
    return "\n".join(lines)


def _comparison_lines(r: ComparisonRow, level: float | None) -> list[str]:
    """Two lines: who, rank and score then → now; what was compared, its change and finding."""
    then, now = r.then or Standing(), r.now or Standing()
    first = (
        f"  {plain(r.role, 11):<11} {plain(r.name, 46, one_line=True):<46} "
        f"rank {_then_now(then.rank, now.rank, 'd')}   "
        f"score {_then_now(then.score, now.score, '.3f')}"
    )
    if r.quantity == "score":
        what = "its score"
    else:
        what = f"advantage over the chosen metric {_then_now(r.value_then, r.value_now, '+.3f')}"
    if r.change is not None:
        what += f", {_arrow(r.change)}"
    if r.change_ci_low is not None:
        kind = "" if r.quantity == "score" else "simultaneous "
        what += (
            f" ({kind}{level or r.ci_level:.0%} CI {r.change_ci_low:+.3f} to "
            f"{r.change_ci_high:+.3f})"
        )
    second = f"{what} — {plain(r.finding, one_line=True)}"
    return [first, *textwrap.wrap(second, 100, initial_indent=" " * 14, subsequent_indent=" " * 16)]


def _then_now(a, b, fmt: str) -> str:
    return f"{_fmt(a, fmt)} → {_fmt(b, fmt)}"


def _fmt(v, fmt: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "—"
    return format(int(v) if fmt == "d" else v, fmt)


def _arrow(change: float) -> str:
    """'↑ 0.012', '↓ 0.034' or '= 0.000' (rounded to 3 decimals)."""
    if round(change, 3) == 0:
        return "= 0.000"
    return f"{'↑' if change > 0 else '↓'} {abs(change):.3f}"
