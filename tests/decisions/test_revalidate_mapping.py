"""Re-validation reads newer data the way the decision's data was read: the column mapping
is recorded in the data fingerprint, and re-used where the new file still has the columns.
An order log with no event column (`one_event`) used to be impossible to re-validate on the
Re-validate page, which has no mapping step, and needed the flags again on the CLI."""

from __future__ import annotations

import copy

import pytest

from northstar_lab import cli
from northstar_lab.analysis import analyse
from northstar_lab.cli.commands import EXIT_CODES
from northstar_lab.data.load import load_inputs
from northstar_lab.decisions.revalidate import recorded_mapping, revalidate, same_data
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.errors import InputError
from northstar_lab.results import RankingResult
from northstar_lab.settings import AnalysisSettings
from tests.data.test_real_exports import online_retail_ii

from .test_revalidate import make_decision


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("orders")
    log = folder / "online_retail_II.csv"
    online_retail_ii(log, n_users=500)
    mapping = {"one_event": "purchase", "user": "Customer ID"}
    loaded = load_inputs(str(log), event_columns=mapping)
    analysis = analyse(loaded, AnalysisSettings(n_bootstrap=20))
    chosen = analysis.ranking.candidates[0].key
    store = DecisionStore(folder / "decisions.sqlite3")
    decision = store.record(make_decision(analysis, chosen))
    return {"log": log, "db": folder / "decisions.sqlite3", "decision": decision,
            "loaded": loaded}  # fmt: skip


def test_the_mapping_is_in_the_fingerprint(recorded):
    fp = recorded["loaded"].fingerprint["events"]["columns"]
    assert fp == {"user": "Customer ID", "timestamp": "InvoiceDate", "value": "Price",
                  "one_event": "purchase"}  # fmt: skip
    assert recorded_mapping(recorded["decision"].evidence.fingerprint) == {
        "events": {"columns": fp}
    }


def test_the_cli_re_validates_an_order_log_without_the_mapping_again(recorded, capsys):
    code = cli.main(["revalidate", "--decision", str(recorded["decision"].id),
                     "--db", str(recorded["db"]), "--events", str(recorded["log"]),
                     "--quiet", "--no-save"])  # fmt: skip
    printed = capsys.readouterr()
    assert code == EXIT_CODES["holds"], printed.err
    assert "same data as the decision" in printed.out


def test_without_the_record_the_same_file_is_refused_with_what_to_do(recorded):
    with pytest.raises(InputError) as err:
        load_inputs(str(recorded["log"]))
    assert "--one-event" in err.value.for_cli()


def test_a_record_made_before_mappings_were_kept_is_still_the_same_data(recorded):
    decision = copy.deepcopy(recorded["decision"])
    for fp in (decision.evidence.fingerprint, decision.evidence.ranking["data"]["fingerprint"]):
        for part in fp.values():
            if isinstance(part, dict):
                part.pop("columns", None)
    loaded = load_inputs(str(recorded["log"]), event_columns={"one_event": "purchase"})
    assert "columns" in loaded.fingerprint["events"]  # the new read keeps its mapping
    reval, analysis = revalidate(decision, loaded)
    assert reval.same_data and reval.verdict == "holds"
    then = RankingResult.from_dict(decision.evidence.ranking)
    assert same_data(decision, then, analysis.ranking)
