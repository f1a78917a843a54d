"""Workshop sessions, participants' scores and idempotent recording, on both engines.

Issue 12 items 2-4: a workshop that survives a reload (its state in the decision database),
several participants scoring at once without losing each other's scores, a save based on an old
version merged or refused (never silently lost), and one record per double click.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from northstar_lab.decisions.sessions import (
    ParticipantScores,
    WorkshopConflict,
    WorkshopSession,
    merge_states,
)
from northstar_lab.decisions.store import DecisionStore
from northstar_lab.errors import InputError

from .storekit import child_script, make_decision

STATE = {
    "dataset": {"kind": "upload", "sha256": "ab" * 32, "name": "events.parquet"},
    "settings": {"window_days": 14, "horizon_days": 90},
    "shortlist": ["invites", "lessons"],
    "weights": {"evidence": 0.5, "actionable": 1.0},
    "draft": {"title": "North Star for 2027", "owner": ""},
}


# --- sessions ---------------------------------------------------------------------------------


def test_a_workshop_comes_back_from_another_store_object(store, location):
    w = store.create_workshop("Q3 North Star workshop", "Ada", STATE)
    assert (w.version, w.title, w.facilitator, w.saved_by) == (
        1,
        "Q3 North Star workshop",
        "Ada",
        "Ada",
    )
    assert len(w.id) >= 16 and w.created_at == w.updated_at
    again = DecisionStore(location).get_workshop(w.id)  # a reload, another replica
    assert again == w and again.state == STATE
    assert WorkshopSession.from_dict(again.to_dict()) == again


def test_saving_on_the_current_version_lands_as_the_next(store):
    w = store.create_workshop("Workshop", "Ada", STATE)
    state = {**w.state, "shortlist": ["invites", "lessons", "logins"]}
    saved = store.save_workshop_state(w.id, state, base_version=w.version, saved_by="Ada")
    assert saved.version == 2 and saved.state == state and saved.saved_by == "Ada"
    assert store.get_workshop(w.id) == saved
    assert saved.updated_at >= w.updated_at and saved.created_at == w.created_at


def test_a_save_from_an_old_version_is_merged_key_by_key(store):
    w = store.create_workshop("Workshop", "Ada", STATE)
    # the facilitator's laptop changes the shortlist, the projector tab changes a weight,
    # both from version 1
    a = store.save_workshop_state(w.id, {**STATE, "shortlist": ["invites"]}, base_version=1)
    weights = {**STATE["weights"], "actionable": 2.0}
    b = store.save_workshop_state(w.id, {**STATE, "weights": weights}, base_version=1)
    assert (a.version, b.version) == (2, 3)
    assert b.state["shortlist"] == ["invites"] and b.state["weights"]["actionable"] == 2.0
    assert b.state["draft"] == STATE["draft"]


def test_nested_changes_to_different_fields_merge(store):
    w = store.create_workshop("Workshop", "Ada", STATE)
    store.save_workshop_state(
        w.id, {**STATE, "draft": {**STATE["draft"], "owner": "Growth PM"}}, base_version=1
    )
    merged = store.save_workshop_state(
        w.id, {**STATE, "draft": {**STATE["draft"], "title": "NS 2027"}}, base_version=1
    )
    assert merged.state["draft"] == {"title": "NS 2027", "owner": "Growth PM"}


def test_the_same_value_changed_on_both_sides_is_refused_and_nothing_lost(store):
    w = store.create_workshop("Workshop", "Ada", STATE)
    first = store.save_workshop_state(
        w.id, {**STATE, "settings": {"window_days": 7, "horizon_days": 90}}, base_version=1,
        saved_by="Grace",
    )  # fmt: skip
    late = {**STATE, "settings": {"window_days": 21, "horizon_days": 90}, "shortlist": []}
    with pytest.raises(WorkshopConflict) as err:
        store.save_workshop_state(w.id, late, base_version=1, saved_by="Ada")
    assert isinstance(err.value, InputError)
    assert err.value.conflicts == ["settings.window_days"]
    assert err.value.current == first
    assert "saved by Grace (version 2) after version 1" in str(err.value)
    assert "Nothing was saved" in str(err.value)
    assert store.get_workshop(w.id) == first  # the earlier save stands, untouched


def test_deleting_a_key_merges_too(store):
    w = store.create_workshop("Workshop", "Ada", {"a": 1, "b": 2, "c": 3})
    store.save_workshop_state(w.id, {"a": 1, "b": 2}, base_version=1)  # c removed
    merged = store.save_workshop_state(w.id, {"a": 10, "b": 2, "c": 3}, base_version=1)
    assert merged.state == {"a": 10, "b": 2}


def test_only_recent_states_are_kept_and_a_save_from_before_them_is_refused(
    store, raw, monkeypatch
):
    from northstar_lab.decisions import sessions

    monkeypatch.setattr(sessions, "KEEP_VERSIONS", 3)
    w = store.create_workshop("Workshop", "Ada", {"a": 0, "b": 0})
    for i in range(1, 6):
        w = store.save_workshop_state(w.id, {"a": i, "b": 0}, base_version=w.version)
    versions = raw.execute("SELECT version FROM workshop_states ORDER BY version")
    assert versions == [(4,), (5,), (6,)]
    # a save from version 1 (pruned): the keys both sides hold differently cannot be merged
    with pytest.raises(WorkshopConflict) as err:
        store.save_workshop_state(w.id, {"a": 0, "b": 1}, base_version=1)
    assert err.value.conflicts == ["a", "b"]
    assert store.get_workshop(w.id).state == {"a": 5, "b": 0}


def test_merge_states_rules():
    base = {"x": 1, "n": {"p": 1, "q": 1}, "gone": 0}
    mine = {"x": 2, "n": {"p": 2, "q": 1}, "mine": True}
    theirs = {"x": 1, "n": {"p": 1, "q": 3}, "gone": 0, "theirs": True}
    merged, conflicts = merge_states(base, mine, theirs)
    assert merged == {"x": 2, "n": {"p": 2, "q": 3}, "theirs": True, "mine": True}
    assert conflicts == []
    _, conflicts = merge_states({"l": [1]}, {"l": [1, 2]}, {"l": [1, 3]})
    assert conflicts == ["l"]  # lists are values, not merged element by element
    merged, conflicts = merge_states({}, {"same": 5}, {"same": 5})
    assert merged == {"same": 5} and conflicts == []


def test_bad_sessions_and_states_are_input_errors(store):
    with pytest.raises(InputError, match="give the workshop a title"):
        store.create_workshop("  ", "Ada")
    with pytest.raises(InputError, match="facilitator: give a name"):
        store.create_workshop("Workshop", " \x1b\x07\t ")
    with pytest.raises(InputError, match="must be a JSON object"):
        store.create_workshop("Workshop", "Ada", ["not", "an", "object"])
    with pytest.raises(InputError, match="cannot be saved as JSON"):
        store.create_workshop("Workshop", "Ada", {"x": float("nan")})
    w = store.create_workshop("Workshop", "Ada")
    assert w.state == {}
    with pytest.raises(InputError, match="base_version must be a saved version"):
        store.save_workshop_state(w.id, {}, base_version=5)
    with pytest.raises(InputError, match="not a workshop link id"):
        store.get_workshop("../../etc/passwd")
    with pytest.raises(InputError, match="No workshop AAAAAAAAAAAA"):
        store.get_workshop("AAAAAAAAAAAA")
    assert [x.id for x in store.list_workshops()] == [w.id]


def test_list_workshops_most_recently_saved_first(store):
    a = store.create_workshop("A", "Ada")
    b = store.create_workshop("B", "Ada")
    store.save_workshop_state(a.id, {"touched": True}, base_version=1)
    assert [w.title for w in store.list_workshops()][0] in ("A", "B")
    listed = store.list_workshops()
    assert {w.id for w in listed} == {a.id, b.id}
    assert listed == sorted(listed, key=lambda w: w.updated_at, reverse=True)
    assert store.get_workshop(a.id).state == {"touched": True}


# --- participants -----------------------------------------------------------------------------


def test_participants_scores_are_their_own(store):
    w = store.create_workshop("Workshop", "Ada")
    store.save_participant_scores(w.id, "Grace", {"invites": {"actionable": 4}})
    store.save_participant_scores(w.id, "Linus", {"invites": {"actionable": 2}})
    store.save_participant_scores(w.id, "  grace  ", {"invites": {"actionable": 5}})  # same person
    scores = store.participant_scores(w.id)
    assert [(s.name, s.scores["invites"]["actionable"]) for s in scores] == [
        ("grace", 5),
        ("Linus", 2),
    ]
    assert ParticipantScores.from_dict(scores[0].to_dict()) == scores[0]
    with pytest.raises(InputError, match="No workshop"):
        store.save_participant_scores("BBBBBBBBBBBB", "Grace", {})
    with pytest.raises(InputError, match="name: give a name"):
        store.save_participant_scores(w.id, "", {})
    assert store.participant_scores(store.create_workshop("Other", "Ada").id) == []
    evil = store.save_participant_scores(w.id, "Eve\x1b]8;;https://evil.example\x07 ", {})
    assert "\x1b" not in evil.name and "\x07" not in evil.name


def test_participants_writing_at_once_lose_nothing(store):
    w = store.create_workshop("Workshop", "Ada")
    names = [f"person-{i}" for i in range(6)]
    rounds, errors = 8, []
    barrier = threading.Barrier(len(names))

    def score(name):
        try:
            barrier.wait()
            for r in range(rounds):
                store.save_participant_scores(w.id, name, {"invites": {"round": r, "who": name}})
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=score, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = {s.name: s.scores["invites"] for s in store.participant_scores(w.id)}
    assert got == {n: {"round": rounds - 1, "who": n} for n in names}


EDITOR = child_script(
    """
    from northstar_lab.decisions.sessions import WorkshopConflict
    from northstar_lab.decisions.store import DecisionStore
    location, workshop, key, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = DecisionStore(location)
    for i in range(n):
        w = store.get_workshop(workshop)
        state = dict(w.state)
        state[key] = i
        store.save_workshop_state(workshop, state, base_version=w.version, saved_by=key)
    print("done")
    """
)


def test_two_processes_editing_one_workshop_lose_no_update(store, location):
    """Read-modify-save loops in two processes (two replicas): every save lands, none is lost."""
    w = store.create_workshop("Workshop", "Ada", {"shared": "kept"})
    n = 15
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", EDITOR, location, w.id, key, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for key in ("facilitator", "projector")
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    final = store.get_workshop(w.id)
    assert final.state == {"shared": "kept", "facilitator": n - 1, "projector": n - 1}
    assert final.version == 1 + 2 * n


# --- idempotent recording ---------------------------------------------------------------------


def test_the_same_key_records_one_decision(store, raw):
    first = store.record(make_decision(), idempotency_key="draft-7f3a")
    again = store.record(make_decision(), idempotency_key="draft-7f3a")
    assert again.to_dict() == first.to_dict() and raw.count() == 1
    other = store.record(make_decision(), idempotency_key="draft-8b1c")
    assert other.id == first.id + 1
    assert store.record(make_decision()).id == other.id + 1  # no key: always a new record


def test_a_different_draft_under_a_used_key_is_refused(store, raw):
    store.record(make_decision(), idempotency_key="draft-1")
    with pytest.raises(InputError, match="already used to record decision #1, with different"):
        store.record(make_decision(title="Another decision"), idempotency_key="draft-1")
    assert raw.count() == 1
    with pytest.raises(InputError, match="idempotency_key must be"):
        store.record(make_decision(), idempotency_key="  ")


def test_a_double_click_from_two_threads_records_once(store, raw):
    barrier, results, errors = threading.Barrier(4), [], []

    def click():
        try:
            barrier.wait()
            results.append(store.record(make_decision(), idempotency_key="double-click").id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and results == [1, 1, 1, 1]
    assert raw.count() == 1


def test_an_amendment_clicked_twice_lands_once(store, raw):
    v1 = store.record(make_decision())
    a = store.amend(v1.id, make_decision(rationale="r2"), note="n", idempotency_key="amend-1")
    b = store.amend(v1.id, make_decision(rationale="r2"), note="n", idempotency_key="amend-1")
    assert a.to_dict() == b.to_dict() and raw.count() == 2
