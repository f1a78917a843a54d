"""The facts of a rationale page, built once by the library from a decision record: plain strings
and small tables that every renderer (the HTML export, Markdown, terminal text, the app's
rationale page) shows in the same order and words. Renderers only lay them out and escape for
their format, so the page and the exports cannot say different things.

`rationale_facts(decision, revalidations, history, integrity)` reads the stored ranking through
`RankingResult.from_dict` (never a stored dict with defaults). Every string is made safe once
here: control and XML-invalid characters a name may carry from the data become U+FFFD
(`safe.cleaned`), so no renderer ever sees one.

Sections, in page order (`SECTIONS`, with their headings; one template partial each): the
North Star and its definition; why it won (rationale, charts, rubric); alternatives considered;
guardrails; how the top five move with the inactivity gap; how confident we are, with caveats;
input metrics (with the evidence that each leads the North Star, and the tree drawn from it);
sign-offs; data and settings; re-validations; versions.

Adding a section: a field on `RationaleFacts` filled here, an entry in `SECTIONS`, a partial
`templates/section_<name>.html.j2`, a writer in `markdown.SECTION_WRITERS` and
`text.SECTION_WRITERS`, and a view in `pages/rationale.py`'s `SECTION_VIEWS`. A picture is
drawn for the HTML with `render.render_svgs` (isolated and made safe like the charts).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..decisions.model import Decision, RejectedAlternative, Revalidation
from ..inputs.tree import decision_tree_spec, input_rows
from ..results import CandidateResult, RankingResult, jsonable
from ..settings import AnalysisSettings
from ..text import num, when
from .charts import argument_chart_names, chart_caption
from .safe import cleaned
from .tables import (
    NUMBER_COLUMNS,
    Table,
    fingerprint_table,
    gap_table,
    guardrail_table,
    hr_text,
    numbers,
    ordinal,
    p_text,
    rows_table,
    rubric_table,
    settings_table,
    standing,
    table,
    then_now_table,
)

#: The sections of the page in order, with their headings (one template partial each).
SECTIONS = {
    "header": "North Star",
    "why": "Why it won",
    "alternatives": "Alternatives considered",
    "guardrails": "Guardrails: counter-metrics to watch",
    "gaps": "How the top five move with the inactivity gap",
    "confidence": "How confident we are",
    "inputs": "Input metrics and owners",
    "signoffs": "Sign-offs",
    "data": "Data and settings",
    "revalidations": "Re-validation history",
    "versions": "Versions",
}
CAUSATION_CAVEAT = (
    "Association, not causation: users who reach more of this metric stay longer and pay more, "
    "but that does not prove that pushing the metric up causes retention. Confirm the levers "
    "(onboarding, prompts, features) by experiment before setting targets on it."
)
TREE_CAPTION = (
    "The North Star above its input metrics, each edge drawn by the evidence that the input "
    "leads it (key under the tree): association, not causation, except where experiments agree."
)
#: the input metrics table's columns that hold numbers (`inputs.tree.input_rows` order)
INPUT_NUMBER_COLUMNS = ("lead per SD [95% CI]", "q", "experiments ρ (arms)")


@dataclass(frozen=True)
class Figure:
    """A headline number: 'Hazard ratio per SD' '0.62' '95% CI 0.57–0.68'."""

    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class ChartFact:
    """A chart that carries the argument: its stored name, caption, and its data as a table
    (shown instead when the chart cannot be drawn)."""

    name: str
    caption: str
    data: Table


@dataclass(frozen=True)
class Alternative:
    """The chosen metric or a rejected alternative, with where it stood and its numbers
    (in `NUMBER_COLUMNS` order). `candidate` is the ranking's name when it differs."""

    role: str  # chosen | rejected
    name: str
    candidate: str
    standing: str
    reason: str
    numbers: tuple[str, ...]


@dataclass(frozen=True)
class RevalidationFact:
    run_at: str
    verdict: str  # holds | weakened | overtaken
    verdict_words: str  # 'overtaken by lesson_started: count in first 14 days'
    judged: str  # 'decision #3'
    summary: str
    rule: str
    then_now: Table


@dataclass(frozen=True)
class VersionFact:
    decision_id: int
    version: int
    recorded: str
    by: str
    note: str
    status: str  # 'shown here', 'latest', 'superseded by version 2'
    shown: bool
    latest: bool


@dataclass(frozen=True)
class Integrity:
    """Whether the record is exactly as recorded: verified, altered or unverifiable."""

    status: str
    message: str


@dataclass(frozen=True)
class RationaleFacts:
    decision_id: int | None
    version: int
    title: str
    record_line: str
    north_star: str
    meaning: str
    definition: tuple[tuple[str, str], ...]
    amendment: str
    superseded: str
    latest_id: int | None
    rationale: tuple[str, ...]
    charts: tuple[ChartFact, ...]
    rubric: Table | None
    headline: tuple[Figure, ...]
    alternatives: tuple[Alternative, ...]
    alternatives_note: str
    guardrails: Table
    gaps: Table
    confidence: tuple[str, ...]
    caveats: tuple[str, ...]
    inputs: Table
    #: the tree of the input metrics as a Vega-Lite spec (`inputs.tree.decision_tree_spec`),
    #: None when no input was measured (inputs written in words only are listed, not drawn)
    tree: dict | None
    tree_caption: str
    signoffs: Table
    population: str
    fingerprint: Table
    settings: Table
    revalidations: tuple[RevalidationFact, ...]
    revalidation_rule: str
    versions: tuple[VersionFact, ...]
    integrity: Integrity | None = None

    #: column headers of the alternatives table after Metric / standing / Why
    number_columns: tuple[str, ...] = tuple(label for label, _ in NUMBER_COLUMNS)

    def to_dict(self) -> dict:
        return jsonable(dataclasses.asdict(self))


def rationale_facts(
    decision: Decision,
    revalidations: Sequence[Revalidation] = (),
    history: Sequence[Decision] = (),
    integrity: Any = None,
) -> RationaleFacts:
    """Everything the rationale page and the exports say about `decision`.

    revalidations: newest first (`DecisionStore.revalidations`); history: every version of
    its lineage, oldest first (`DecisionStore.history`; empty = unknown, nothing said);
    integrity: `DecisionStore.verify`'s report (anything with `.status` and `.message`).
    """
    ranking = RankingResult.from_dict(decision.evidence.ranking)
    settings = AnalysisSettings.from_dict(decision.evidence.settings)
    chosen = ranking.find(decision.chosen_key)
    latest = history[-1] if history else None
    superseded = latest is not None and latest.id != decision.id
    tree = decision_tree_spec(decision)
    facts = RationaleFacts(
        decision_id=decision.id,
        version=decision.version,
        title=decision.title,
        record_line=record_line(decision),
        north_star=decision.definition.name,
        meaning=decision.definition.meaning,
        definition=tuple(definition_rows(decision)),
        amendment=_amendment(decision),
        superseded=_superseded(decision, latest) if superseded else "",
        latest_id=latest.id if superseded else None,
        rationale=tuple(paragraphs(decision.rationale)),
        charts=tuple(_chart_facts(decision, ranking)),
        rubric=rubric_table(decision.evidence.rubric),
        headline=tuple(_headline(chosen)),
        alternatives=tuple(alternatives(decision, ranking)),
        alternatives_note="" if decision.rejected else "No rejected alternatives were recorded.",
        guardrails=guardrail_table(ranking),
        gaps=gap_table(ranking, decision.chosen_key),
        confidence=tuple(confidence_lines(decision, ranking, chosen)),
        caveats=tuple(caveats(ranking, chosen, settings)),
        inputs=_inputs(decision),
        tree=tree,
        tree_caption=TREE_CAPTION if tree else "",
        signoffs=_signoffs(decision),
        population=population_line(ranking),
        fingerprint=fingerprint_table(decision.evidence.fingerprint),
        settings=settings_table(settings),
        revalidations=tuple(_revalidation(r) for r in revalidations),
        revalidation_rule=revalidations[0].rule if revalidations else "",
        versions=tuple(_versions(decision, history)),
        integrity=Integrity(integrity.status, integrity.message) if integrity else None,
    )
    return cleaned(facts)


def stored_facts(store: Any, decision_id: int | str) -> tuple[Decision, RationaleFacts]:
    """A stored decision and its facts: its re-validations, every version of its lineage and
    the store's check of its content hash (`DecisionStore` get, revalidations, history, verify).
    InputError when there is no such decision."""
    decision = store.get(decision_id)
    did = decision.id
    facts = rationale_facts(
        decision, store.revalidations(did), store.history(did), store.verify(did)
    )
    return decision, facts


# --------------------------------------------------------------------------------------------
# The North Star, its definition, its versions
# --------------------------------------------------------------------------------------------


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
    return [(label, str(value)) for label, value in rows if value and str(value).strip()]


def record_line(decision: Decision) -> str:
    by = f" by {decision.created_by}" if decision.created_by else ""
    recorded = when(decision.created_at)
    return f"Decision #{decision.id or '—'}, version {decision.version}, recorded {recorded}{by}"


def _amendment(decision: Decision) -> str:
    if not decision.supersedes:
        return ""
    return f"Amends decision #{decision.supersedes}: {decision.amendment_note}"


def _superseded(decision: Decision, latest: Decision) -> str:
    return (
        f"Superseded: this is version {decision.version}; the current version is "
        f"{latest.version} (decision #{latest.id}, recorded {when(latest.created_at)})."
    )


def _versions(decision: Decision, history: Sequence[Decision]) -> list[VersionFact]:
    if len(history) < 2:
        return []
    latest = history[-1]
    out = []
    for h in history:
        status = "latest" if h.id == latest.id else f"superseded by version {h.version + 1}"
        out.append(
            VersionFact(
                decision_id=int(h.id or 0),
                version=h.version,
                recorded=when(h.created_at),
                by=h.created_by,
                note=h.amendment_note or "First version",
                status=status + (", shown here" if h.id == decision.id else ""),
                shown=h.id == decision.id,
                latest=h.id == latest.id,
            )
        )
    return out


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; single newlines are kept inside a paragraph."""
    return [b.strip() for b in re.split(r"\n\s*\n", text or "") if b.strip()]


# --------------------------------------------------------------------------------------------
# Why it won, the alternatives, how confident we are
# --------------------------------------------------------------------------------------------


def _chart_facts(decision: Decision, ranking: RankingResult) -> list[ChartFact]:
    stored, names = decision.evidence.charts, {c.key: c.name for c in ranking.candidates}
    return [
        ChartFact(name, chart_caption(name, names), rows_table(stored[name]))
        for name in argument_chart_names(decision)
    ]


def _headline(c: CandidateResult | None) -> list[Figure]:
    if c is None:
        return []
    ci = f"95% CI {num(c.hr_ci_low, '.2f')}–{num(c.hr_ci_high, '.2f')}"
    return [
        Figure("Ranked first in bootstrap", num(c.p_first, ".0%")),
        Figure("Hazard ratio per SD", num(c.hazard_ratio, ".2f"), ci),
        Figure("Concordance C", num(c.c_index, ".3f")),
        Figure("Revenue ρ", num(c.revenue_rho, "+.2f")),
    ]


def _rejected_result(r: RejectedAlternative, ranking: RankingResult) -> CandidateResult:
    """The rejected alternative as ranked; else the numbers its own record carries."""
    found = ranking.find(r.key)
    if found is not None:
        return found
    base = {"key": r.key, "name": r.name, "kind": "", "event": None, "column": None}
    return CandidateResult.from_dict({**base, "transform": "", "flags": [], **r.evidence})


def alternatives(decision: Decision, ranking: RankingResult) -> list[Alternative]:
    """The chosen metric, then each rejected alternative: name, standing, reason, numbers."""
    n = len(ranking.candidates)
    chosen = ranking.find(decision.chosen_key)
    given = decision.definition.name
    rows = [
        Alternative(
            role="chosen",
            name=given,
            candidate=_other(chosen.name if chosen else decision.chosen_key, given),
            standing=standing(chosen, n) if chosen else "Not in the recorded ranking",
            reason="Chosen North Star",
            numbers=numbers(chosen) if chosen else ("—",) * len(NUMBER_COLUMNS),
        )
    ]
    for r in decision.rejected:
        c = _rejected_result(r, ranking)
        rows.append(
            Alternative(
                "rejected", r.name, _other(c.name, r.name), standing(c, n), r.reason, numbers(c)
            )  # fmt: skip
        )
    return rows


def _other(candidate_name: str, given_name: str) -> str:
    return "" if str(candidate_name).strip() == str(given_name).strip() else str(candidate_name)


def confidence_lines(
    decision: Decision, ranking: RankingResult, c: CandidateResult | None
) -> list[str]:
    """How sure we are about the chosen metric, in sentences with the numbers."""
    if c is None:
        return [
            f"The chosen metric ({decision.chosen_key}) is not in the recorded ranking, so "
            "there are no figures to report."
        ]
    n_boot = ranking.settings.n_bootstrap
    resamples = f"{n_boot} bootstrap resamples" if n_boot else "the bootstrap resamples"
    tied = c.tied_with_leader is True and c.rank != 1
    first = (
        f"It ranked {ordinal(c.rank)} of {len(ranking.candidates)} candidates and first in "
        f"{num(c.p_first, '.0%')} of {resamples}"
        + (f" (median rank {num(c.median_rank, '.1f')})" if c.median_rank is not None else "")
        + ("; it is statistically tied with the leader." if tied else ".")
    )
    n, events = c.n or ranking.n_users, c.n_events or ranking.n_churned
    lines = [
        first,
        f"Retention: hazard ratio {hr_text(c)} per standard deviation (below 1 = fewer churns), "
        f"concordance C {num(c.c_index)}, q {p_text(c.q_value)}"
        + (f", among {n:,} users of whom {events:,} churned." if n and events else "."),
    ]
    if c.revenue_rho is not None:
        ci = ""
        if c.revenue_rho_ci_low is not None:
            lo, hi = num(c.revenue_rho_ci_low, ".2f"), num(c.revenue_rho_ci_high, ".2f")
            ci = f" (95% CI {lo}–{hi})"
        users = f" over {c.n_revenue:,} users" if c.n_revenue else ""
        lines.append(f"Revenue: Spearman ρ {num(c.revenue_rho, '+.2f')}{ci}{users}.")
    if c.threshold_figures is not None:
        lines.append(_threshold_line(c))
    return lines


def _threshold_line(c: CandidateResult) -> str:
    f = c.threshold_figures

    def ci(pair) -> str:
        return f"[{num(pair[0], '.0%')}–{num(pair[1], '.0%')}]"

    return (
        "Threshold, judged on held-out users: "
        f"those reaching ≥ {num(f.k, 'g')} ({num(f.share_above, '.0%')} of them) were retained "
        f"{num(f.retention_above, '.0%')} {ci(f.retention_above_ci)} vs "
        f"{num(f.retention_below, '.0%')} {ci(f.retention_below_ci)} at day "
        f"{num(f.horizon_days, 'g')} after the window (log-rank p {p_text(f.logrank_p)}); "
        f"they stayed {num(f.rmst_difference, '.1f')} ± {num(f.rmst_difference_se, '.1f')} more "
        "days on average (ΔRMST)."
    )


def caveats(
    ranking: RankingResult, c: CandidateResult | None, settings: AnalysisSettings
) -> list[str]:
    """Standing caveats, then every warning stored on the chosen candidate and the ranking."""
    out = [
        CAUSATION_CAVEAT,
        f"Thresholds were chosen on training users and judged on held-out ones "
        f"({settings.threshold_split} split); the threshold figures above are the held-out "
        "ones, so they are not flattered by the choice.",
    ]
    out += list(c.warnings) if c is not None else []
    out += [f"Analysis: {w}" for w in ranking.warnings]
    return out


# --------------------------------------------------------------------------------------------
# People, data, re-validations
# --------------------------------------------------------------------------------------------


def _inputs(decision: Decision) -> Table:
    """One row per recorded input (`inputs.tree.input_rows`, its keys as the header): name,
    kind, owner, definition, target and the evidence in words; an input written in words only
    has empty evidence cells and the verdict "not measured"."""
    rows = input_rows(decision)
    if not rows:
        return table(("name", "kind", "owner", "definition"), [], empty="None recorded.")
    header = tuple(rows[0])
    numeric = [header.index(c) for c in INPUT_NUMBER_COLUMNS if c in header]
    return table(header, [[r.get(h, "") for h in header] for r in rows], numeric=numeric)


def _signoffs(decision: Decision) -> Table:
    rows = [(s.name, s.role) for s in decision.sign_offs]
    return table(("Name", "Role"), rows, empty="No sign-offs recorded.")


def population_line(ranking: RankingResult) -> str:
    if not ranking.n_users:
        return ""
    excluded = ", ".join(
        f"{k.replace('_', ' ')} {v:,}" for k, v in (ranking.excluded or {}).items() if v
    )
    return (
        f"{ranking.n_users:,} users in the retention analysis, {ranking.n_churned:,} churned; "
        f"excluded: {excluded or 'none'}."
    )


def _revalidation(r: Revalidation) -> RevalidationFact:
    names = {row.key: row.name for row in r.comparison}
    by = names.get(r.overtaken_by, r.overtaken_by) if r.overtaken_by else ""
    return RevalidationFact(
        run_at=when(r.run_at),
        verdict=r.verdict,
        verdict_words=r.verdict + (f" by {by}" if by else ""),
        judged=f"decision #{r.decision_id}",
        summary=r.summary,
        rule=r.rule,
        then_now=then_now_table(r.comparison, r.uncertainty),
    )
