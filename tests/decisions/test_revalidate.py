"""Re-validation verdicts on constructed cases, through the library and the CLI exit codes."""

import json

import numpy as np
import pytest

from northstar_lab import cli
from northstar_lab.analysis import analyse
from northstar_lab.cli.commands import EXIT_CODES
from northstar_lab.data.load import load_inputs
from northstar_lab.decisions import workshop
from northstar_lab.decisions.model import Decision, MetricDefinition
from northstar_lab.decisions.revalidate import recorded_settings, revalidate, verdict
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.sample import generate_product
from northstar_lab.settings import AnalysisSettings

DRIVER = "count:lesson_completed"


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
    shortlist = workshop.default_shortlist(ranking)
    if DRIVER not in shortlist:
        shortlist = [DRIVER, *shortlist]
    rejected = workshop.rejected_alternatives(ranking, DRIVER, shortlist)
    decision = Decision(
        title="North Star",
        chosen_key=DRIVER,
        definition=MetricDefinition(name=ranking.candidate(DRIVER).name),
        rationale=workshop.evidence_summary(ranking, DRIVER),
        rejected=rejected,
        evidence=workshop.evidence_snapshot(analysis, DRIVER, [r.key for r in rejected]),
    )
    db = folder / "decisions.sqlite3"
    saved = DecisionStore(db).record(decision)
    return {"events": events, "broken": broken_path, "decision": saved, "db": db}


def test_recorded_settings_fix_the_thresholds(world):
    s = recorded_settings(world["decision"])
    fixed = dict(s.fixed_thresholds)
    recorded = world["decision"].evidence.ranking["candidates"]
    then = next(c for c in recorded if c["key"] == DRIVER)
    assert fixed[DRIVER] == then["threshold"]
    assert s.revenue_event == "payment" and s.as_of is None


def test_same_data_holds(world):
    reval, _ = revalidate(world["decision"], load_inputs(str(world["events"])))
    assert reval.verdict == "holds", reval.summary
    chosen = next(r for r in reval.comparison if r["role"] == "chosen")
    assert chosen["then_score"] == pytest.approx(chosen["now_score"], abs=1e-12)
    assert {r["key"] for r in reval.comparison} >= {r.key for r in world["decision"].rejected}


def test_data_without_the_driver_is_weakened_or_overtaken(world):
    reval, analysis = revalidate(world["decision"], load_inputs(str(world["broken"])))
    assert reval.verdict in ("weakened", "overtaken"), reval.summary
    now = analysis.ranking.candidate(DRIVER)
    assert now.q_value >= 0.05 or now.hr_ci_high >= 1 or reval.verdict == "overtaken"
    if reval.verdict == "overtaken":
        assert reval.overtaken_by and reval.overtaken_by != DRIVER


def test_verdict_rule_on_a_constructed_ranking(world):
    d = world["decision"]
    then = json.loads(json.dumps(d.evidence.ranking))
    # the chosen metric's score halves while it stays first: weakened by the 75% rule
    halved = json.loads(json.dumps(then))
    for c in halved["candidates"]:
        if c["key"] == DRIVER:
            c["score"] = c["score"] / 2
    from northstar_lab.results import RankingResult

    v, by, summary = verdict(d, RankingResult.from_dict(halved))
    assert (v, by) == ("weakened", None) and "below 75%" in summary
    # another candidate leads and the chosen one is not tied with it: overtaken
    swapped = json.loads(json.dumps(then))
    cands = swapped["candidates"]
    i = next(j for j, c in enumerate(cands) if c["key"] == DRIVER)
    rival = cands[1] if i == 0 else cands[0]
    cands.remove(rival)
    cands.insert(0, rival)
    for c in cands:
        if c["key"] == DRIVER:
            c["tied_with_leader"] = False
    v, by, _ = verdict(d, RankingResult.from_dict(swapped))
    assert (v, by) == ("overtaken", rival["key"])


def test_cli_exit_codes_and_history(world, capsys, tmp_path):
    base = ["revalidate", "--decision", str(world["decision"].id), "--db", str(world["db"]),
            "--quiet"]  # fmt: skip
    out = tmp_path / "reval.json"
    code = cli.main([*base, "--events", str(world["events"]), "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == EXIT_CODES["holds"] == 0
    assert "VERDICT: HOLDS" in printed and "Rule:" in printed
    assert json.loads(out.read_text())["verdict"] == "holds"
    code = cli.main([*base, "--events", str(world["broken"])])
    assert code in (EXIT_CODES["weakened"], EXIT_CODES["overtaken"]) and code in (3, 4)
    history = DecisionStore(world["db"]).revalidations(world["decision"].id)
    assert [h.verdict for h in history][-1] == "holds" and len(history) == 2
    # the decision itself is untouched
    again = DecisionStore(world["db"]).get(world["decision"].id)
    assert again.to_dict() == world["decision"].to_dict()


def test_cli_unknown_decision_is_exit_2(world, capsys):
    code = cli.main(["revalidate", "--decision", "999", "--db", str(world["db"]),
                     "--events", str(world["events"]), "--quiet"])  # fmt: skip
    assert code == 2 and "999" in capsys.readouterr().err
