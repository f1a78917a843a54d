"""`decisions copy --from SQLITE --to POSTGRES_URL` moves a team's whole history, exactly."""

from __future__ import annotations

import json

import pytest

from northstar_lab.cli import main
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.decisions.transfer import CopyReport, copy_store
from northstar_lab.errors import InputError

from .pg_cluster import PASSWORD
from .storekit import RawDB, make_decision, make_revalidation, run_cli


def team_history(store: DecisionStore) -> dict:
    """Two lineages (one amended twice), re-validations, a workshop with two participants."""
    a1 = store.record(make_decision("Activation"), idempotency_key="k-a1")
    b1 = store.record(make_decision("Retention"))
    a2 = store.amend(a1.id, make_decision("Activation v2"), note="target raised")
    store.add_revalidation(a2.id, make_revalidation("holds"))
    a3 = store.amend(a2.id, make_decision("Activation v3"), note="definition clarified")
    store.add_revalidation(b1.id, make_revalidation("weakened"))
    w = store.create_workshop("Q3 workshop", "Ada", {"shortlist": ["invites"]})
    w = store.save_workshop_state(w.id, {"shortlist": ["invites", "lessons"]}, base_version=1)
    store.save_participant_scores(w.id, "Grace", {"invites": {"actionable": 4}})
    store.save_participant_scores(w.id, "Linus", {"invites": {"actionable": 2}})
    return {"latest": a3.id, "workshop": w.id}


def everything(store: DecisionStore) -> dict:
    """All a person can see of a store, as plain data."""
    rows = store.list_decisions(all_versions=True)
    return {
        "list": rows,
        "decisions": [store.get(r["id"]).to_dict() for r in rows],
        "revalidations": {
            r["id"]: [x.to_dict() for x in store.revalidations(r["id"])] for r in rows
        },
        "verify": {r["id"]: store.verify(r["id"]).to_dict() for r in rows},
        "workshops": [w.to_dict() for w in store.list_workshops()],
        "scores": {
            w.id: [s.to_dict() for s in store.participant_scores(w.id)]
            for w in store.list_workshops()
        },
    }


def test_copy_sqlite_to_postgres_keeps_everything(tmp_path, pg_cluster):
    source = DecisionStore(tmp_path / "team.sqlite3")
    ids = team_history(source)
    target_url = pg_cluster.new_database()
    result = run_cli("decisions", "copy", "--from", str(source.path), "--to", target_url)
    assert result.returncode == 0, result.stderr
    assert "Copied 4 decision versions, 2 re-validations and 1 workshops" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr and "//***@" in result.stdout

    target = DecisionStore(target_url)
    assert everything(target) == everything(source)
    assert all(v["status"] == "verified" for v in everything(target)["verify"].values())
    # the copy goes on as the same history: amend the latest, save the workshop, same key
    a4 = target.amend(ids["latest"], make_decision("Activation v4"), note="after the move")
    assert (a4.id, a4.version) == (5, 4)
    again = target.record(make_decision("Activation"), idempotency_key="k-a1")
    assert again.id == 1
    w = target.get_workshop(ids["workshop"])
    assert target.save_workshop_state(w.id, {"moved": True}, base_version=w.version).version == 3


def test_copying_again_skips_what_is_there(tmp_path, pg_cluster):
    source = DecisionStore(tmp_path / "team.sqlite3")
    team_history(source)
    target = DecisionStore(pg_cluster.new_database())
    copy_store(source, target)
    report = copy_store(source, target)
    assert (report.decisions, report.revalidations, report.workshops) == (0, 0, 0)
    assert report.already_present == 4 + 2 + 1
    assert CopyReport.from_dict(report.to_dict()) == report
    assert RawDB(target.engine._url).count() == 4

    source.record(make_decision("Recorded after the first copy"))
    assert copy_store(source, target).decisions == 1


def test_a_target_with_its_own_history_is_refused_and_untouched(tmp_path, location):
    source = DecisionStore(tmp_path / "source.sqlite3")
    team_history(source)
    target = DecisionStore(location)
    target.record(make_decision("The target's own first decision"))
    before = everything(target)
    with pytest.raises(
        InputError, match=r"already holds different decision versions under the ids #1"
    ):
        copy_store(source, target)
    assert everything(target) == before


def test_copy_is_all_or_nothing(tmp_path, location, monkeypatch):
    source = DecisionStore(tmp_path / "source.sqlite3")
    team_history(source)
    target = DecisionStore(location)

    def failing_commit(self, conn):
        raise RuntimeError("the target's disk filled up at COMMIT")

    monkeypatch.setattr(type(target.engine), "_commit", failing_commit)
    with pytest.raises(RuntimeError):
        copy_store(source, target)
    monkeypatch.undo()
    assert RawDB(location).count() == 0 and target.list_workshops() == []


def test_a_tampered_record_is_copied_as_it_is_and_still_fails(tmp_path, pg_cluster):
    path = tmp_path / "source.sqlite3"
    source = DecisionStore(path)
    team_history(source)
    forged = source.get(2).to_dict()
    forged["rationale"] = "edited by hand"
    RawDB(str(path)).tamper(
        "decisions", "UPDATE decisions SET payload = ? WHERE id = 2", (json.dumps(forged),)
    )
    target = DecisionStore(pg_cluster.new_database())
    report = copy_store(source, target)
    assert report.altered == ["decision #2"]
    assert "decision #2 failed the content-hash check in the source" in report.message
    assert target.verify(2).status == "altered"


def test_copy_needs_both_ends_and_an_existing_source(tmp_path, capsys):
    assert main(["decisions", "copy", "--to", str(tmp_path / "t.sqlite3")]) == 2
    assert "needs --from DB" in capsys.readouterr().err
    missing = tmp_path / "missing.sqlite3"
    assert main(["decisions", "copy", "--from", str(missing), "--to", str(tmp_path / "t")]) == 2
    assert "No decision database at" in capsys.readouterr().err
    assert not missing.exists()
    same = tmp_path / "same.sqlite3"
    DecisionStore(same)
    assert main(["decisions", "copy", "--from", str(same), "--to", str(same)]) == 2
    assert "are the same database" in capsys.readouterr().err


def test_copy_between_two_sqlite_files(tmp_path):
    source = DecisionStore(tmp_path / "a.sqlite3")
    team_history(source)
    target = DecisionStore(tmp_path / "b.sqlite3")
    assert copy_store(source, target).decisions == 4
    assert everything(target) == everything(source)
