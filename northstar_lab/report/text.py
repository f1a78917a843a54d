"""The rationale page as terminal text (the CLI's `decisions show`): the same facts in the same
order, with every control character removed.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..decisions.model import Decision, Revalidation
from ..text import plain, when
from .facts import (
    caveats,
    compact,
    comparison_rows,
    confidence_lines,
    definition_rows,
    input_table,
    population_line,
    record_line,
    signoff_table,
)


def rationale_text(decision: Decision, revalidations: Sequence[Revalidation] = ()) -> str:
    """The record as readable terminal text, in the same order as the page."""
    d = decision.definition
    out = [plain(decision.title), plain(record_line(decision)), "", f"NORTH STAR: {plain(d.name)}"]
    out += [f"  {label + ':':<16}{plain(value)}" for label, value in definition_rows(decision)]
    if decision.supersedes:
        out += _wrap(f"Amends #{decision.supersedes}: {decision.amendment_note}")
    out += ["", "WHY IT WON", *_wrap(decision.rationale), "", "REJECTED ALTERNATIVES"]
    for r in comparison_rows(decision)[1:]:
        nums = ", ".join(f"{k} {v}" for k, v in r["numbers"].items())
        out += [f"  - {plain(r['name'])}", *_wrap(f"why: {r['reason']}", "      ")]
        out += _wrap(nums, "      ")
    if not decision.rejected:
        out.append("  (none recorded)")
    out += ["", "CONFIDENCE"]
    for line in confidence_lines(decision) + caveats(decision):
        out += _wrap(f"- {line}")
    for heading, table in (("INPUT METRICS", input_table), ("SIGN-OFFS", signoff_table)):
        _header, rows, empty = table(decision)
        out += ["", heading, *[plain("  - " + " · ".join(v for v in r if v)) for r in rows]]
        out += [] if rows else [f"  ({empty.rstrip('.').lower()})"]
    out += ["", "DATA AND SETTINGS", *_wrap(population_line(decision))]
    out += _wrap(f"fingerprint: {compact(decision.evidence.fingerprint)}")
    out += _wrap(f"settings: {compact(decision.evidence.settings)}")
    return "\n".join(out + ["", "RE-VALIDATIONS", *_revalidations_text(revalidations)])


def _wrap(text: str, indent: str = "  ") -> list[str]:
    """Wrapped at 96 columns; a '- ' bullet's continuation lines are indented under its text."""
    import textwrap

    lines, hang = [], indent + ("  " if text.startswith("- ") else "")
    for para in plain(text).split("\n") if text else []:
        lines += textwrap.wrap(para, 96, initial_indent=indent, subsequent_indent=hang) or [""]
    return lines


def _revalidations_text(revalidations: Sequence[Revalidation]) -> list[str]:
    if not revalidations:
        return ["  (not re-validated yet)"]
    out = []
    for r in revalidations:
        by = f" by {r.overtaken_by}" if r.overtaken_by else ""
        out += [plain(f"  {when(r.run_at)}  {r.verdict.upper()}{by}  (judged #{r.decision_id})")]
        out += _wrap(r.summary, "      ")
    return out + _wrap(f"rule: {revalidations[0].rule}")
