"""Words on charts: short unique axis labels, labels told apart by what differs, subtitles
wrapped into lines (so that 40 candidates and a projector still read), and the sentences under
the revenue, cohort and weekly charts.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence

#: A weekly series whose CV exceeds sampling noise's by this factor is said to move.
NOISE_RATIO = 1.5
#: Axis labels longer than this keep their start and end ('certificate_dow…d: active days').
LABEL_CHARS = 30


def short_labels(names: Sequence[str], limit: int = LABEL_CHARS) -> list[str]:
    """Short, unique axis labels in the order given (the full name goes in the tooltip).

    A name longer than `limit` keeps its start and its end, where names of one event differ
    ('certificate_dow…d: active days'); labels that still coincide get ' (2)', ' (3)'.
    """
    out: list[str] = []
    taken: set[str] = set()
    for name in names:
        label = str(name)
        if len(label) > limit:
            tail = (limit - 1) // 2
            label = label[: limit - 1 - tail].rstrip() + "…" + label[-tail:].lstrip()
        unique, n = label, 1
        while unique in taken:
            n += 1
            unique = f"{label} ({n})"
        taken.add(unique)
        out.append(unique)
    return out


def split_shared_words(labels: Sequence[str]) -> tuple[str, list[str]]:
    """('lesson_completed', ['≥ 6×', '< 6×']) from ['lesson_completed ≥ 6×',
    'lesson_completed < 6×']: the words every label starts with, and what tells them apart
    (so two bars never read alike once a long name is cut). ('', labels) when none are shared.
    """
    labels = [str(x) for x in labels]
    if len(labels) < 2:
        return "", labels
    shared = os.path.commonprefix(labels)
    shared = shared[: shared.rfind(" ") + 1] if " " in shared else ""
    if not shared or any(len(x) == len(shared) for x in labels):
        return "", labels
    words = shared.strip()
    words = words[: -len(" on")] if words.endswith(" on") else words
    return words, [x[len(shared) :] for x in labels]


def wrapped_lines(text: str | Sequence[str], width: int) -> list[str]:
    """Sentences (one string or several) as lines of at most `width` characters; words are
    never broken, so the lines joined with spaces give the sentences back."""
    sentences = [text] if isinstance(text, str) else list(text)
    return [
        line
        for sentence in sentences
        for line in textwrap.wrap(sentence, width, break_long_words=False, break_on_hyphens=False)
    ]


def revenue_axis_title(
    revenue_source: str | None, window_days: int, horizon_days: int, currency: str = "$"
) -> str:
    """Words for the revenue axis: the days it covers when it is an event's value."""
    if revenue_source is None or revenue_source.startswith("sum of"):
        return f"Revenue per user in days {window_days}–{window_days + horizon_days} ({currency})"
    # the source's reasons (in parentheses) are for the notes, not for an axis
    return f"Revenue per user ({revenue_source.split(' (')[0]}, {currency})"


def cohort_subtitle(summary: dict) -> list[str]:
    """Pooled HR, I² and same-sign share in words; a sign flip and skipped cohorts are named."""
    n = summary.get("n_cohorts", 0)
    lines = [
        f"Pooled hazard ratio per SD {summary['pooled_hr']:.2f} "
        f"(95% CI {summary['pooled_ci_low']:.2f}–{summary['pooled_ci_high']:.2f}); "
        f"I² = {summary['i2']:.0%} of the spread between groups is beyond chance; "
        f"same direction in {summary['same_sign_share']:.0%} of {n} groups."
    ]
    if summary.get("sign_flip"):
        lines.append("Warning: in some group the association is clearly reversed (sign flip).")
    if summary.get("n_skipped"):
        lines.append(
            f"{summary['n_skipped']} group(s) with fewer than {summary.get('min_events', 20)} "
            "churn events left out."
        )
    return lines


def weekly_subtitle(summary: dict) -> str:
    """The week-over-week CV next to what sampling noise alone would give."""
    cv, noise = summary.get("cv"), summary.get("sampling_cv")
    if cv is None or not math.isfinite(cv):
        return "Too few weeks to measure week-over-week variation."
    verdict = (
        "it moves more than noise, so a change in the product can show up in it"
        if cv > NOISE_RATIO * noise
        else "mostly sampling noise: read it over several weeks, not week by week"
    )
    return (
        f"Week-over-week coefficient of variation {cv:.0%} over {summary['n_weeks']} weeks; "
        f"sampling noise alone would give about {noise:.0%}: {verdict}."
    )
