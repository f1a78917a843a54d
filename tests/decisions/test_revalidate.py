"""Re-validation verdicts on constructed cases, through the library and the CLI exit codes.

The verdict judges change against the decision's own recorded comparison, with the
uncertainty of the change (METHODS §5.6); the rates on simulated draws are in
test_revalidate_simulation.py.
"""

import copy
import json

import numpy as np
import pytest

from northstar_lab import cli
from northstar_lab.analysis import analyse
from northstar_lab.cli.commands import EXIT_CODES
from northstar_lab.cli.format import format_revalidation
from northstar_lab.data.load import load_inputs
from northstar_lab.decisions import workshop
from northstar_lab.decisions.model import ComparisonRow, Decision, MetricDefinition, Revalidation
from northstar_lab.decisions.revalidate import (
    MIN_RESAMPLES,
    RULE,
    judge,
    recorded_settings,
    revalidate,
    verdict,
)
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.results import CandidateResult, RankingResult
from northstar_lab.sample import generate_product
from northstar_lab.settings import AnalysisSettings

DRIVER = "count:lesson_completed"


def make_decision(analysis, chosen: str) -> Decision:
    ranking = analysis.ranking
    shortlist = workshop.default_shortlist(ranking)
    if chosen not in shortlist:
        shortlist = [chosen, *shortlist]
    rejected = workshop.rejected_alternatives(ranking, chosen, shortlist)
    return Decision(
        title="North Star",
        chosen_key=chosen,
        definition=MetricDefinition(name=ranking.candidate(chosen).name),
        rationale=workshop.evidence_summary(ranking, chosen),
        rejected=rejected,
        evidence=workshop.evidence_snapshot(analysis, chosen, [r.key for r in rejected]),
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A decision recorded on one product's data, plus newer data with and without the driver."""
    folder = tmp_path_factory.mktemp("reval")
    data = generate_product(n_users=3000, seed=21)
    events = folder / "events.parquet"
    data.events.to_parquet(events, index=False)
    # Newer data where lessons no longer mean anything: completions are shuffled across users
    # (same volume, same timestamps), so the association with retention is destroyed.
    broken = data.events.copy()
    is_lesson = broken["event"] == "lesson_completed"
    rng = np.random.default_rng(0)
    broken.loc[is_lesson, "user_id"] = rng.permutation(broken.loc[is_lesson, "user_id"].to_numpy())
    broken_path = folder / "broken.parquet"
    broken.to_parquet(broken_path, index=False)
    settings = AnalysisSettings(revenue_event="payment", n_bootstrap=100)
    analysis = analyse(load_inputs(str(events)), settings)
    ranking = analysis.ranking
    assert ranking.leader.event == "lesson_completed"
    db = folder / "decisions.sqlite3"
    saved = DecisionStore(db).record(make_decision(analysis, DRIVER))
    return {
        "events": events,
        "broken": broken_path,
        "decision": saved,
        "db": db,
        "analysis": analysis,
    }


def constructed(decision: Decision, edit=None, same_data: bool = False) -> RankingResult:
    """The decision's own ranking as if re-run on other data, then edited: `edit(candidates)`."""
    d = copy.deepcopy(decision.evidence.ranking)
    if not same_data:
        d["data"]["fingerprint"] = {"events": {"sha256": "ab" * 32, "rows": 1}}
    if edit:
        edit({c["key"]: c for c in d["candidates"]}, d)
    return RankingResult.from_dict(d)


def lead_with(key: str, d: dict) -> None:
    """Put `key` first (rank 1) and mark the chosen metric not tied with it."""
    cands = d["candidates"]
    cands.sort(key=lambda c: c["key"] != key)
    for i, c in enumerate(cands, 1):
        c["rank"] = i
        c["tied_with_leader"] = i == 1


def test_recorded_settings_fix_the_thresholds_and_measure_uncertainty(world):
    s = recorded_settings(world["decision"])
    fixed = dict(s.fixed_thresholds)
    recorded = world["decision"].evidence.ranking["candidates"]
    then = next(c for c in recorded if c["key"] == DRIVER)
    assert fixed[DRIVER] == then["threshold"]
    assert s.revenue_event == "payment" and s.as_of is None
    assert s.n_bootstrap == max(100, MIN_RESAMPLES)


def test_the_ranking_records_score_uncertainty(world):
    ranking = world["analysis"].ranking
    lead, second = ranking.candidates[:2]
    assert all(c.score_se and c.score_se > 0 for c in ranking.candidates)
    assert set(lead.score_diff_se) >= {second.key} and lead.key not in lead.score_diff_se
    pair = ranking.score_diff_se(lead.key, second.key)
    assert pair == ranking.score_diff_se(second.key, lead.key) > 0
    # near-duplicates move together: their difference is far less uncertain than either score
    twin = next(
        c for c in ranking.candidates if c.key in _group_of(ranking, DRIVER) and c.key != DRIVER
    )
    assert ranking.score_diff_se(DRIVER, twin.key) < 0.5 * ranking.candidate(DRIVER).score_se
    back = RankingResult.from_dict(json.loads(ranking.to_json()))
    assert back.candidate(DRIVER).score_diff_se == ranking.candidate(DRIVER).score_diff_se


def _group_of(ranking: RankingResult, key: str) -> list[str]:
    return next(g for g in ranking.redundancy_groups if key in g)


def test_same_data_holds(world):
    reval, _ = revalidate(world["decision"], load_inputs(str(world["events"])))
    assert reval.verdict == "holds", reval.summary
    assert reval.same_data is True and "same data as the decision" in reval.summary
    chosen = next(r for r in reval.comparison if r.role == "chosen")
    assert chosen.then.score == pytest.approx(chosen.now.score, abs=1e-12)
    assert chosen.change == pytest.approx(0, abs=1e-12)
    assert {r.key for r in reval.comparison} >= {r.key for r in world["decision"].rejected}
    assert reval.rule == RULE and reval.level == 0.99


def test_identical_data_with_a_third_choice_holds(world, capsys):
    """Reproduced on main: a decision that chose the #3 candidate, re-validated on identical
    data, said 'overtaken' (exit 4)."""
    ranking = world["analysis"].ranking
    third = ranking.candidates[2]
    assert ranking.leader.key != third.key and third.tied_with_leader is False
    decision = DecisionStore(world["db"]).record(make_decision(world["analysis"], third.key))
    code = cli.main(["revalidate", "--decision", str(decision.id), "--db", str(world["db"]),
                     "--events", str(world["events"]), "--quiet", "--no-save"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == EXIT_CODES["holds"] == 0, printed
    assert "same data as the decision" in printed
    v, by, summary = verdict(decision, ranking)
    assert (v, by) == ("holds", None)


def test_bootstrap_0_ties_are_unknown_not_false(world):
    """Reproduced on main: with --bootstrap 0 every tied_with_leader was stored as false."""
    settings = AnalysisSettings(revenue_event="payment", n_bootstrap=0)
    analysis = analyse(load_inputs(str(world["events"])), settings)
    ranking = analysis.ranking
    assert all(c.tied_with_leader is None and c.score_se is None for c in ranking.candidates)
    assert all(c["tied_with_leader"] is None for c in json.loads(ranking.to_json())["candidates"])
    # a record written before: "tied_with_leader": false with no resamples loads as unknown
    old = {**ranking.candidates[1].to_dict(), "tied_with_leader": False, "p_first": None}
    assert CandidateResult.from_dict(old).tied_with_leader is None
    decision = make_decision(analysis, DRIVER)
    reval, _ = revalidate(decision, load_inputs(str(world["events"])))
    assert reval.verdict == "holds" and reval.same_data, reval.summary
    assert all(r.then.tied_with_leader is None and r.then.p_first is None for r in reval.comparison)
    assert all(isinstance(r.now.tied_with_leader, bool) for r in reval.comparison)


def test_data_without_the_driver_is_weakened_or_overtaken(world):
    reval, analysis = revalidate(world["decision"], load_inputs(str(world["broken"])))
    assert reval.verdict in ("weakened", "overtaken"), reval.summary
    chosen = next(r for r in reval.comparison if r.role == "chosen")
    assert chosen.significant and chosen.change_ci_high < 0
    if reval.verdict == "overtaken":
        assert reval.overtaken_by and reval.overtaken_by not in (DRIVER, *reval.twins)


def test_a_significant_fall_is_weakened_a_small_one_holds(world):
    d = world["decision"]
    se = RankingResult.from_dict(d.evidence.ranking).candidate(DRIVER).score_se

    def shift(by):  # every score moves together: no advantage changes
        return lambda c, _d: [x.update(score=x["score"] + by) for x in c.values()]

    j = judge(d, constructed(d, shift(-0.5 * se)))
    assert j.verdict == "holds", j.summary
    assert "no significant change" in j.summary.lower()
    j = judge(d, constructed(d, shift(-8 * se)))
    assert (j.verdict, j.overtaken_by) == ("weakened", None) and "fell" in j.summary
    row = next(r for r in j.rows if r.role == "chosen")
    assert row.change == pytest.approx(-8 * se) and row.change_ci_high < 0 and row.significant
    # the SE of the change is √(SE_then² + SE_now²)
    assert row.change_se == pytest.approx(np.sqrt(2) * se, rel=1e-6)


def test_an_alternative_overtakes_only_when_its_advantage_grew(world):
    d = world["decision"]
    then = RankingResult.from_dict(d.evidence.ranking)
    rival = next(
        c for c in then.candidates if c.key != DRIVER and c.key not in _group_of(then, DRIVER)
    )
    gap = then.candidate(DRIVER).score - rival.score

    def lift(by):
        return lambda c, _d: c[rival.key].update(score=c[rival.key]["score"] + by)

    # the rival now listed first and "not tied", but its advantage unchanged: no evidence of
    # change (on main: overtaken)
    j = judge(d, constructed(d, lambda _c, rd: lead_with(rival.key, rd)))
    assert j.verdict == "holds", j.summary
    j = judge(d, constructed(d, lift(gap + 0.2)))
    assert (j.verdict, j.overtaken_by) == ("overtaken", rival.key), j.summary
    row = next(r for r in j.rows if r.key == rival.key)
    assert row.quantity == "advantage" and row.value_now > 0 and row.change_ci_low > 0
    assert "overtakes" in row.finding and 0.99 < row.ci_level < 1


def test_twins_never_overtake_they_are_named(world):
    """A near-duplicate of the chosen metric (its redundancy group) pulling ahead is no
    overtaking (on main it was 'overtaken by' its twin on score gaps of 0.01)."""
    d = world["decision"]
    then = RankingResult.from_dict(d.evidence.ranking)
    twin = next(k for k in _group_of(then, DRIVER) if k != DRIVER)

    def twin_ahead(c, rd):
        c[twin].update(score=c[DRIVER]["score"] + 0.1)
        lead_with(twin, rd)

    j = judge(d, constructed(d, twin_ahead))
    assert j.verdict == "holds" and j.overtaken_by is None, j.summary
    assert twin in j.twins and then.candidate(twin).name in j.summary
    row = next(r for r in j.rows if r.key == twin)
    assert row.role == "twin" and "never overtakes" in row.finding


def test_a_record_without_uncertainty_uses_the_documented_approximation(world):
    d = copy.deepcopy(world["decision"])
    for c in d.evidence.ranking["candidates"]:
        c.pop("score_se", None)
        c.pop("score_diff_se", None)
    lower = constructed(
        world["decision"], lambda c, _d: [x.update(score=x["score"] - 0.15) for x in c.values()]
    )
    j = judge(d, lower)
    assert j.verdict == "weakened", j.summary
    assert "√(n_now/n_then)" in j.uncertainty and "√(n_now/n_then)" in j.summary
    row = next(r for r in j.rows if r.role == "chosen")
    assert "√(n_now/n_then)" in row.uncertainty and row.change_se is not None


def test_old_revalidation_rows_load_typed(world):
    old = {
        "decision_id": 1, "verdict": "holds", "rule": "old rule", "summary": "Holds.",
        "comparison": [{"key": "a", "name": "A", "role": "chosen", "then_rank": 1,
                        "now_rank": 2, "then_score": 0.3, "now_score": 0.25,
                        "then_hr_ci_low": 0.7, "now_p_first": 0.4}],
        "fingerprint": {}, "settings": {}, "ranking": {},
    }  # fmt: skip
    r = Revalidation.from_dict(old)
    [row] = r.comparison
    assert isinstance(row, ComparisonRow)
    assert (row.then.rank, row.now.rank, row.then.score, row.now.score) == (1, 2, 0.3, 0.25)
    assert row.then.hr_ci_low == 0.7 and row.now.p_first == 0.4 and row.value_then is None
    assert r.same_data is None and r.twins == []
    assert Revalidation.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    text = format_revalidation(world["decision"], r)  # an old record still prints
    assert "rank 1 → 2   score 0.300 → 0.250" in text and "Rule: old rule" in text


def test_format_revalidation_says_it_in_words(world):
    d = world["decision"]
    now = constructed(d, lambda c, _d: [x.update(score=x["score"] - 0.1) for x in c.values()])
    j = judge(d, now)
    reval = Revalidation(
        decision_id=1, verdict=j.verdict, rule=RULE, summary=j.summary, comparison=j.rows,
        fingerprint={}, settings={}, ranking={}, level=0.99, uncertainty=j.uncertainty,
    )  # fmt: skip
    text = format_revalidation(d, reval)
    assert "VERDICT: WEAKENED" in text and "its score, ↓ 0.100 (99% CI" in text
    assert "its score fell significantly" in text and "simultaneous 99% CI" in text
    assert "Rule: Judged against the decision's own recorded comparison" in text


def test_cli_exit_codes_and_history(world, capsys, tmp_path):
    base = ["revalidate", "--decision", str(world["decision"].id), "--db", str(world["db"]),
            "--quiet"]  # fmt: skip
    out = tmp_path / "reval.json"
    code = cli.main([*base, "--events", str(world["events"]), "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == EXIT_CODES["holds"] == 0
    assert "VERDICT: HOLDS — same data as the decision" in printed and "Rule:" in printed
    written = json.loads(out.read_text())
    assert written["verdict"] == "holds" and written["rule"] == RULE
    assert written["same_data"] is True and written["comparison"][0]["role"] == "chosen"
    code = cli.main([*base, "--events", str(world["broken"])])
    assert code in (EXIT_CODES["weakened"], EXIT_CODES["overtaken"]) and code in (3, 4)
    history = DecisionStore(world["db"]).revalidations(world["decision"].id)
    assert [h.verdict for h in history][-1] == "holds" and len(history) == 2
    assert all(isinstance(r, ComparisonRow) for h in history for r in h.comparison)
    assert history[0].rule == RULE
    # the decision itself is untouched
    again = DecisionStore(world["db"]).get(world["decision"].id)
    assert again.to_dict() == world["decision"].to_dict()


def test_cli_unknown_decision_is_exit_2(world, capsys):
    code = cli.main(["revalidate", "--decision", "999", "--db", str(world["db"]),
                     "--events", str(world["events"]), "--quiet"])  # fmt: skip
    assert code == 2 and "999" in capsys.readouterr().err
