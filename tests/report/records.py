"""Decision records for the report tests, built in code as the store returns them.

`make_decision` has a four-candidate ranking (one noise-level), chart rows as
`evidence.snapshot_charts` stores them, input metrics and sign-offs; `evil_decision` carries
markup, links and images in every typed field; `control_decision` carries every control
character in every name that reaches a chart; `measured_decision` has two input metrics with
their evidence (as the Input metrics page records them) and one written in words only.
"""

from __future__ import annotations

import copy
import dataclasses
from html.parser import HTMLParser

import altair as alt
import pandas as pd

from northstar_lab.decisions.model import (
    Decision,
    EvidenceSnapshot,
    InputMetric,
    MetricDefinition,
    RejectedAlternative,
    Revalidation,
    SignOff,
)
from northstar_lab.inputs.result import InputEvidence

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'


#: The key numbers of a candidate, in the order of the strings given to `candidate`.
NUMBERS = ("rank", "score", "c_index", "hazard_ratio", "hr_ci_low", "hr_ci_high", "revenue_rho",
           "q_value", "p_first")  # fmt: skip


def candidate(key: str, name: str, numbers: str, **extra) -> dict:
    """A candidate as `CandidateResult.to_dict()` writes it; numbers in NUMBERS order."""
    values = dict(zip(NUMBERS, map(float, numbers.split()), strict=True))
    base = {
        "key": key, "name": name, "kind": "count", "event": key.split(":")[-1], "column": None,
        "transform": "log1p", **values, "rank": int(values["rank"]),
        "median_rank": values["rank"], "revenue_rho_ci_low": None, "revenue_rho_ci_high": None,
        "tied_with_leader": False, "threshold": None, "threshold_figures": None,
        "evaluated_on": "all users", "n": 4000, "n_events": 1310, "n_revenue": 3900,
        "noise_level": values["q_value"] >= 0.05, "window_verifiable": True, "warnings": [],
    }  # fmt: skip
    return {**base, **extra}


def ranking() -> dict:
    """A ranking snapshot as `RankingResult.to_dict()` writes it: four candidates, one noise."""
    figures = {
        "k": 2.0,
        "n_test": 2000,
        "n_above": 640,
        "share_above": 0.32,
        "retention_above": 0.81,
        "retention_above_ci": [0.77, 0.84],
        "retention_below": 0.58,
        "retention_below_ci": [0.55, 0.61],
        "retention_difference": 0.23,
        "retention_difference_p": 1e-12,
        "logrank_p": 3e-14,
        "rmst_above": 80.2,
        "rmst_below": 69.9,
        "rmst_difference": 10.3,
        "rmst_difference_se": 1.4,
        "revenue_above": 61.0,
        "revenue_below": 35.5,
        "horizon_days": 90.0,
    }
    return {
        "n_users": 4000,
        "n_churned": 1310,
        "excluded": {"signed_up_too_late": 212, "no_events": 0},
        "settings": {"window_days": 14, "horizon_days": 90, "n_bootstrap": 200},
        "data": {},
        "candidates": [  # numbers: rank, score, C, HR [lo, hi], revenue ρ, q, P(first)
            candidate(
                "count:invite_sent",
                "invite_sent count in first 14 days",
                "1 0.612 0.683 0.62 0.57 0.68 0.31 2e-11 0.71",
                revenue_rho_ci_low=0.27,
                revenue_rho_ci_high=0.35,
                threshold=2.0,
                threshold_figures=figures,
                evaluated_on="held-out half (random split)",
                warnings=[
                    "Hazard ratio drifts over follow-up (PH test p 0.004): read "
                    "ΔRMST at day 90 instead."
                ],
            ),
            candidate(
                "count:lesson_completed",
                "lesson_completed count in first 14 days",
                "2 0.548 0.655 0.70 0.65 0.76 0.24 4e-8 0.26",
            ),
            candidate(
                "days_active",
                "active days in first 14 days",
                "3 0.43 0.61 0.78 0.72 0.84 0.18 1e-4 0.03",
            ),
            candidate(
                "count:login",
                "login count in first 14 days",
                "4 0.12 0.53 0.96 0.89 1.04 0.02 0.31 0.0",
            ),
        ],
        "warnings": ["212 users signed up less than 14 days before the data ends."],
    }


def chart_data() -> dict:
    """Chart rows as `evidence.snapshot_charts` stores them (names 'forest', 'km/<key>', …)."""
    forest = [
        {
            k: c[k]
            for k in (
                "key",
                "name",
                "rank",
                "hazard_ratio",
                "hr_ci_low",
                "hr_ci_high",
                "q_value",
                "noise_level",
            )
        }
        | {"label": c["name"][:20]}
        for c in ranking()["candidates"]
    ]
    km = [
        {"group": g, "time": t, "survival": s, "ci_low": s - 0.03, "ci_high": min(1, s + 0.03)}
        for g, drop in (("reached 2", 0.002), ("below 2", 0.005))
        for t, s in ((0, 1.0), (30, 1 - 30 * drop), (60, 1 - 60 * drop), (90, 1 - 90 * drop))
    ]
    revenue = [
        {"group": "reached 2", "n": 640, "mean_revenue": 61.0, "ci_low": 55.0, "ci_high": 67.0},
        {"group": "below 2", "n": 1360, "mean_revenue": 35.5, "ci_low": 32.0, "ci_high": 39.0},
    ]
    return {
        "meta": [{"window_days": 14, "horizon_days": 90, "keys": ["count:invite_sent"]}],
        "forest": forest,
        "km/count:invite_sent": km,
        "revenue/count:invite_sent": revenue,
        "threshold/count:invite_sent": [{"k": 1, "gain": 0.1}, {"k": 2, "gain": 0.23}],
    }


def make_decision(**changes) -> Decision:
    d = Decision(
        title="North Star for 2027",
        chosen_key="count:invite_sent",
        definition=MetricDefinition(
            name="Teams inviting a colleague in week 1",
            meaning="Share of new teams where someone invites a colleague within 14 days.",
            numerator="New teams with at least 2 invites sent in their first 14 days",
            denominator="New teams that signed up at least 14 days ago",
            time_window="First 14 days after signup, reported weekly by signup week",
            exclusions="Test and internal accounts",
            owner="Growth PM",
            baseline="32%",
            target="40% by Q4",
        ),
        rationale="Invites predict retention best and lead revenue.\n\nThe team can move them.",
        rejected=[
            RejectedAlternative(
                "count:lesson_completed",
                "Lessons completed",
                "Weaker retention signal: C 0.66 vs 0.68",
            ),
            RejectedAlternative(
                "days_active",
                "Active days",
                "Redundant with invites and a weaker revenue association (ρ 0.18 vs 0.31)",
            ),
            RejectedAlternative(
                "count:login", "Logins", "Not distinguishable from noise (q 0.31)", {"score": 0.12}
            ),
        ],
        evidence=EvidenceSnapshot(
            settings={
                "window_days": 14,
                "horizon_days": 90,
                "n_bootstrap": 200,
                "threshold_split": "random",
                "seed": 20261125,
            },
            fingerprint={
                "events": {"file": "events.csv.gz", "sha256": "9f" * 32, "rows": 1_204_311}
            },
            ranking=ranking(),
            charts=chart_data(),
        ),
        input_metrics=[
            InputMetric("Invite prompt reach", "breadth", "Onboarding squad", "Share shown"),
            InputMetric("Invites per inviting team", "depth", "Collaboration squad"),
        ],
        sign_offs=[SignOff("Ada Lovelace", "CEO"), SignOff("Grace Hopper", "VP Product")],
        created_by="workshop facilitator",
        id=3,
        version=1,
        created_at="2026-11-20T10:15:00+00:00",
    )
    for k, v in changes.items():
        setattr(d, k, v)
    return d


#: the verdicts in words of `measured_decision`'s two measured inputs
CONFIRMED = "leads the North Star, and past experiments agree"
MOVES_WITH = "moves with the North Star but does not lead it"


def measured_decision(owner: str = "Onboarding squad") -> Decision:
    """`make_decision` with input metrics as the Input metrics page records them: two with
    their evidence (`InputEvidence.to_dict()`: one confirmed by experiments, one that only
    moves with the North Star) and one written in words only."""
    prompt = InputEvidence(
        key="count:invite_prompt_seen", name="Invite prompt reach", kind="breadth",
        owner=owner, measure="reached", baseline_mean=0.42, n_users=4000, lead_effect=0.21,
        lead_ci_low=0.15, lead_ci_high=0.27, q_value=2e-6, experiments_n=6,
        experiment_corr=0.81, verdict="leads", experiment_verdict="confirmed",
        edge="confirmed", verdict_text=CONFIRMED,
    )  # fmt: skip
    invites = InputEvidence(
        key="count:invite_sent", name="Invites per inviting team", kind="depth",
        owner="Collaboration squad", measure="count", baseline_mean=1.7, n_users=4000,
        lead_effect=0.02, lead_ci_low=-0.01, lead_ci_high=0.05, q_value=0.31,
        verdict="moves_with", edge="weak", verdict_text=MOVES_WITH,
    )  # fmt: skip
    d = make_decision()
    d.input_metrics = [
        InputMetric("Invite prompt reach", "breadth", owner, "Share shown the prompt",
                    key=prompt.key, target_low=0.5, target_high=0.6,
                    evidence=prompt.to_dict()),
        InputMetric("Invites per inviting team", "depth", "Collaboration squad",
                    key=invites.key, evidence=invites.to_dict()),
        InputMetric("Teacher NPS", "efficiency", "Schools team", "Asked each term"),
    ]  # fmt: skip
    return d


def revalidations() -> list[Revalidation]:
    return [
        Revalidation(
            decision_id=3,
            verdict="weakened",
            rule="Weakened: the HR CI includes 1 …",
            summary="Weakened: its score fell from 0.612 to 0.420.",
            comparison=[],
            fingerprint={},
            settings={},
            ranking={},
            id=2,
            run_at="2027-02-01T09:00:00+00:00",
        ),
        Revalidation(
            decision_id=3,
            verdict="holds",
            rule="Weakened: the HR CI includes 1 …",
            summary="Holds: ranks 1 (score 0.600).",
            comparison=[],
            fingerprint={},
            settings={},
            ranking={},
            id=1,
            run_at="2026-12-20T09:00:00+00:00",
        ),
    ]


def evil_decision() -> Decision:
    """Every field a person types carries markup, a link and an image."""
    typed = EVIL + " [click](javascript:alert(3)) ![x](https://evil.example/x.png)"
    d = make_decision(title=f"Title {EVIL}", rationale=f"Rationale {typed}\n\n{typed}")
    d.created_by, d.amendment_note, d.supersedes, d.version = EVIL, f"Note {EVIL}", 2, 2
    for field in (
        "name",
        "meaning",
        "numerator",
        "denominator",
        "time_window",
        "exclusions",
        "owner",
        "baseline",
        "target",
    ):
        setattr(d.definition, field, f"{field} {typed}")
    d.rejected[0].name = f"Lessons {EVIL}"
    d.rejected[0].reason = f"Reason {typed}"
    d.input_metrics[0].name = f"Input {EVIL}"
    d.input_metrics[0].owner = f"Owner {EVIL}"
    d.input_metrics[0].definition = f"Def {typed}"
    d.sign_offs[0].name = f"Signer {EVIL}"
    d.sign_offs[0].role = f"Role {EVIL}"
    return d


class Tags(HTMLParser):
    """Every element and attribute the browser would build from a document."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]


def simple_chart(title: str) -> alt.Chart:
    df = pd.DataFrame({"name": ["a", "b"], "hr": [0.6, 0.9]})
    return (
        alt.Chart(df, title=title)
        .mark_bar(clip=True)
        .encode(x="hr:Q", y="name:N", color=alt.Color("hr:Q"))
    )


#: Every C0 control character: vl-convert aborts the process on most of them.
CONTROLS = "".join(chr(i) for i in range(1, 32))


def control_decision() -> Decision:
    """Names with every control character, as records made before names were cleaned have."""
    d = make_decision()
    d = copy.deepcopy(d)
    for c in d.evidence.ranking["candidates"]:
        c["name"] = f"{c['name']} {CONTROLS}"
    for row in d.evidence.charts["forest"]:
        row["name"] = row["label"] = f"{row['label']}{CONTROLS}"
    for name in ("km/count:invite_sent", "revenue/count:invite_sent"):
        for row in d.evidence.charts[name]:
            row["group"] = f"{row['group']} {CONTROLS}"
    d.definition.name = f"Invites {CONTROLS}"
    d.rejected[0].name = f"Lessons {CONTROLS}"
    return d


def with_comparison(reval: Revalidation) -> Revalidation:
    """The re-validation with then-vs-now rows as records made before `ComparisonRow` stored
    them ({"then_rank": …, "now_score": …}), read back as the store reads them."""
    fields = ("rank", "score", "c_index", "hazard_ratio", "hr_ci_low", "hr_ci_high",
              "revenue_rho", "q_value", "p_first")  # fmt: skip
    then = {
        "count:invite_sent": (1, 0.612, 0.683, 0.62, 0.57, 0.68, 0.31, 2e-11, 0.71),
        "count:lesson_completed": (2, 0.548, 0.655, 0.70, 0.65, 0.76, 0.24, 4e-8, 0.26),
    }
    now = {
        "count:invite_sent": (2, 0.420, 0.641, 0.75, 0.69, 0.81, 0.22, 3e-6, 0.20),
        "count:lesson_completed": (1, 0.560, 0.660, 0.69, 0.64, 0.75, 0.25, 2e-8, 0.80),
    }
    names = {
        "count:invite_sent": "invite_sent count in first 14 days",
        "count:lesson_completed": "lesson_completed count in first 14 days",
    }
    roles = {"count:invite_sent": "chosen", "count:lesson_completed": "rejected"}
    rows = [
        {"key": k, "name": names[k], "role": roles[k],
         **{f"then_{f}": v for f, v in zip(fields, then[k], strict=True)},
         **{f"now_{f}": v for f, v in zip(fields, now[k], strict=True)}}
        for k in names
    ]  # fmt: skip
    return dataclasses.replace(reval, comparison=rows)  # read back as typed rows


class Verified:
    """What `DecisionStore.verify` returns, as far as the report reads it."""

    def __init__(self, status: str, message: str) -> None:
        self.status, self.message = status, message
