"""The CLI contract: `python -m northstar_lab rank …` — JSON shape, entry shapes, exit codes.

The CLI runs in-process through `cli.main` (fast), plus one subprocess run to prove the module
entry point exits 2 without a traceback end to end. Data: one small Lumen Learn product, written
once per module as CSV and Parquet; `--bootstrap 20` keeps every run around a second.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from northstar_lab.cli import main
from northstar_lab.sample import SampleData, generate_product

REPO = Path(__file__).resolve().parents[2]
N_USERS = 1500
SEED = 5
W = 14
DAY = pd.Timedelta(days=1)
BOOT = ("--bootstrap", "20")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
CANDIDATE_FLOATS = (
    "score",
    "hazard_ratio",
    "hr_ci_low",
    "hr_ci_high",
    "coef_per_unit",
    "p_value",
    "q_value",
    "c_index",
)


def run_cli(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `rank …` in-process, for module-scoped fixtures.

    Tests use capsys instead; a module fixture cannot, so it redirects the streams itself.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["rank", *args])
    return code, out.getvalue(), err.getvalue()


def rank(capsys, json_path: Path, *args: str) -> tuple[dict, str, str]:
    """Run `rank … --json json_path` expecting success; the parsed JSON, stdout and stderr."""
    code = main(["rank", *args, "--json", str(json_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err and "internal error" not in err
    return json.loads(json_path.read_text(encoding="utf-8")), out, err


def assert_clean_error(code: int, out: str, err: str) -> None:
    """Exit 2, nothing on stdout, one paragraph on stderr, no traceback."""
    assert code == 2, (code, err)
    assert "Traceback" not in err and "internal error" not in err
    assert err.startswith("error: ")
    assert err.strip() and "\n\n" not in err.strip()
    assert out == ""


@pytest.fixture(scope="module")
def data() -> SampleData:
    return generate_product(N_USERS, seed=SEED)


@pytest.fixture(scope="module")
def files(data: SampleData, tmp_path_factory) -> dict[str, Path]:
    """The product as an analyst would get it: events (CSV, Parquet), users, users_summary."""
    d = tmp_path_factory.mktemp("cli_data")
    paths = {
        "events_parquet": d / "events.parquet",
        "events_csv": d / "events.csv",
        "users": d / "users.csv",
        "users_summary": d / "users_summary.csv",
    }
    data.events.to_parquet(paths["events_parquet"], index=False)
    data.events.to_csv(paths["events_csv"], index=False, date_format=DATE_FORMAT)
    data.users.to_csv(paths["users"], index=False, date_format=DATE_FORMAT)
    data.users_summary.to_csv(paths["users_summary"], index=False, date_format=DATE_FORMAT)
    return paths


@pytest.fixture(scope="module")
def events_run(files, tmp_path_factory) -> dict:
    """`rank --events events.parquet --revenue-event payment --bootstrap 20 --json …`."""
    out_json = tmp_path_factory.mktemp("events_run") / "ranking.json"
    code, out, err = run_cli(
        "--events", str(files["events_parquet"]), "--revenue-event", "payment", *BOOT,
        "--json", str(out_json),
    )  # fmt: skip
    assert code == 0, err
    return {"json": json.loads(out_json.read_text(encoding="utf-8")), "stdout": out, "stderr": err}


def cancellation_table(data: SampleData) -> pd.DataFrame:
    """users + two behaviour columns + `cancelled_at` from the latent churn time (empty if none)."""
    truth = data.truth["users"]
    table = data.users.merge(
        data.users_summary[["user_id", "lessons_first_14d", "logins_first_14d"]], on="user_id"
    )
    known = truth[truth["churn_at"] < data.truth["as_of"]].set_index("user_id")["churn_at"]
    table["cancelled_at"] = table["user_id"].map(known)
    return table


def expected_cancellation_outcomes(table: pd.DataFrame, as_of) -> dict[str, int]:
    """Population, churn events and exclusions by hand (METHODS §1).

    The as-of date is inclusive: data ends at the midnight after it. A cancellation after that
    end is not yet known (censored); users who signed up after it are left out; the landmark
    drops users whose churn or follow-up ends before day W.
    """
    a_end = pd.Timestamp(as_of) + DAY
    signup, cancel = table["signup_at"], table["cancelled_at"]
    a_days = np.floor((a_end - signup) / DAY)
    present = a_days >= 0
    churned = cancel.notna() & (cancel < a_end)
    d = np.where(churned, np.floor((cancel - signup) / DAY), a_days)
    keep = present & (d >= W)
    return {
        "n_users": int(keep.sum()),
        "n_churned": int((keep & churned).sum()),
        "churned_in_window": int((present & churned & (d < W)).sum()),
        "not_yet_observable": int((present & ~churned & (d < W)).sum()),
        "signed_up_after_as_of": int((~present).sum()),
    }


# --- the JSON contract -----------------------------------------------------------------------


def test_json_top_level_shape_and_population(events_run):
    j = events_run["json"]
    assert {"n_users", "n_churned", "excluded", "settings", "candidates"} <= set(j)
    assert isinstance(j["n_users"], int) and isinstance(j["n_churned"], int)
    assert 0 < j["n_churned"] <= j["n_users"] <= N_USERS
    assert all(isinstance(k, str) and isinstance(v, int) for k, v in j["excluded"].items())
    # Every user of the log is either in the retention analysis or counted as excluded.
    left_out = j["excluded"].get("churned_in_window", 0) + j["excluded"].get(
        "not_yet_observable", 0
    )
    assert j["n_users"] + left_out == N_USERS
    assert j["excluded"]["churned_in_window"] > 0  # ~12% churn inside the window
    assert isinstance(j["candidates"], list) and len(j["candidates"]) > 10


def test_json_candidates_ranked_and_typed(events_run):
    cands = events_run["json"]["candidates"]
    assert [c["rank"] for c in cands] == list(range(1, len(cands) + 1))
    for c in cands:
        assert isinstance(c["name"], str) and c["name"]
        assert c["event"] is None or isinstance(c["event"], str)
        assert c["column"] is None or isinstance(c["column"], str)
        assert isinstance(c["rank"], int) and not isinstance(c["rank"], bool)
        for field in CANDIDATE_FLOATS:
            assert isinstance(c[field], float) and math.isfinite(c[field]), (c["name"], field)
        assert c["revenue_rho"] is None or isinstance(c["revenue_rho"], float)
        assert c["threshold"] is None or isinstance(c["threshold"], (int, float))
        assert isinstance(c["p_first"], float)
        assert isinstance(c["warnings"], list)
        assert all(isinstance(w, str) for w in c["warnings"])
    # An event log offers no users-table columns: candidates to grow come first, in score
    # order, then any guardrails (more goes with churn), which never lead.
    guard = [c["is_guardrail"] for c in cands]
    assert guard == sorted(guard)
    scores = [c["score"] for c in cands if not c["is_guardrail"]]
    assert scores == sorted(scores, reverse=True)


def test_json_statistics_are_coherent(events_run):
    cands = events_run["json"]["candidates"]
    for c in cands:
        assert c["hr_ci_low"] <= c["hazard_ratio"] <= c["hr_ci_high"], c["name"]
        assert 0.0 <= c["p_value"] <= 1.0 and 0.0 <= c["q_value"] <= 1.0
        assert c["q_value"] >= c["p_value"] - 1e-12, c["name"]  # BH never lowers a p-value
        assert 0.0 <= c["c_index"] <= 1.0
        assert c["revenue_rho"] is None or -1.0 <= c["revenue_rho"] <= 1.0
        assert 0.0 <= c["p_first"] <= 1.0
    assert sum(c["p_first"] for c in cands) == pytest.approx(1.0, abs=1e-6)
    assert any(c["revenue_rho"] is not None for c in cands)  # --revenue-event payment
    assert any(c["threshold"] is not None for c in cands)


def test_json_settings_echo_flags_and_leaderboard_printed(events_run):
    s = events_run["json"]["settings"]
    assert s["window_days"] == 14
    assert s["inactivity_days"] == 30
    assert s["horizon_days"] == 90
    assert s["n_bootstrap"] == 20
    assert s["revenue_event"] == "payment"
    assert s["candidates"] is None
    out = events_run["stdout"]
    leader = events_run["json"]["candidates"][0]["name"]
    assert out.startswith("North Star Lab — ")
    assert f"{events_run['json']['n_users']:,} users in the retention analysis" in out
    assert leader[:40] in out
    assert "JSON written to" in out


def test_leaderboard_shows_how_the_top_five_move_with_the_gap(events_run):
    out, j = events_run["stdout"], events_run["json"]
    assert "Inactivity gap: how the top five move" in out
    section = out.split("Inactivity gap: how the top five move")[1].split("\n\n")[0]
    assert all(f"g={g}" in section for g in (30, 7, 14, 28))
    leaders = [c for c in j["candidates"] if not (c["is_guardrail"] or c["is_lifetime_total"])]
    for c in leaders[:5]:
        assert c["name"][:40] in section
    assert [g["gap_days"] for g in j["gap_sensitivity"]] == [7, 14, 28]
    assert all(isinstance(g["ranks"], dict) and g["ranks"] for g in j["gap_sensitivity"])


def test_window_days_flag_changes_settings_and_candidates(capsys, tmp_path, files, events_run):
    j, _, _ = rank(
        capsys, tmp_path / "w7.json",
        "--events", str(files["events_parquet"]), "--revenue-event", "payment", *BOOT,
        "--window-days", "7",
    )  # fmt: skip
    assert j["settings"]["window_days"] == 7
    names = [c["name"] for c in j["candidates"]]
    assert all("first 7 days" in n for n in names), names
    assert not any("first 14 days" in n for n in names)
    # The landmark moves to day 7: everyone left out at day 7 was also left out at day 14.
    assert j["n_users"] >= events_run["json"]["n_users"]
    assert j["excluded"]["churned_in_window"] <= events_run["json"]["excluded"]["churned_in_window"]


# --- entry shapes ----------------------------------------------------------------------------


def test_events_csv_with_users_table(capsys, tmp_path, files):
    j, out, _ = rank(
        capsys, tmp_path / "r.json",
        "--events", str(files["events_csv"]), "--users", str(files["users"]),
        "--revenue-event", "payment", *BOOT,
    )  # fmt: skip
    left_out = j["excluded"].get("churned_in_window", 0) + j["excluded"].get(
        "not_yet_observable", 0
    )
    assert j["n_users"] + left_out == N_USERS
    assert j["n_churned"] > 0
    assert all(c["column"] is None for c in j["candidates"])
    assert {c["event"] for c in j["candidates"]} >= {"lesson_completed", "login"}
    assert "payment" not in {c["event"] for c in j["candidates"]}  # the revenue event
    assert j["candidates"][0]["event"] == "lesson_completed"
    assert "JSON written to" in out


def test_users_summary_with_duration_churn_flag_and_revenue(capsys, tmp_path, files, data):
    j, _, _ = rank(
        capsys, tmp_path / "r.json",
        "--users", str(files["users_summary"]), "--duration-col", "tenure_days",
        "--event-col", "churned", "--revenue-col", "revenue_per_month", *BOOT,
    )  # fmt: skip
    s = data.users_summary
    keep = s["tenure_days"] >= W
    assert j["n_users"] == int(keep.sum())
    assert j["n_churned"] == int((keep & (s["churned"] == "yes")).sum())
    assert j["excluded"]["churned_in_window"] == int((~keep & (s["churned"] == "yes")).sum())
    assert j["settings"]["revenue_col"] == "revenue_per_month"
    columns = {c["column"] for c in j["candidates"]}
    assert columns == {"lessons_first_14d", "logins_first_14d", "quizzes_first_14d", "total_logins"}
    for c in j["candidates"]:
        assert c["event"] is None
        assert any("Window not verifiable" in w for w in c["warnings"]), c["name"]
    trap = next(c for c in j["candidates"] if c["name"] == "total_logins (users table)")
    assert any("Lifetime total" in w for w in trap["warnings"])
    assert j["candidates"][0]["column"] == "lessons_first_14d"


def test_explicit_cancellation_dates_count_churn_by_hand(capsys, tmp_path, data):
    table = cancellation_table(data)
    path = tmp_path / "users_cancel.csv"
    table.to_csv(path, index=False, date_format=DATE_FORMAT)
    j, _, _ = rank(
        capsys, tmp_path / "r.json",
        "--users", str(path), "--signup-col", "signup_at", "--churn-col", "cancelled_at", *BOOT,
    )  # fmt: skip
    # Default as-of: the latest date in the table (a signup or a cancellation).
    as_of = max(table["signup_at"].max(), table["cancelled_at"].max()).date()
    want = expected_cancellation_outcomes(table, as_of)
    assert want["churned_in_window"] > 0 and want["n_churned"] > 0
    assert j["n_users"] == want["n_users"]
    assert j["n_churned"] == want["n_churned"]
    assert j["excluded"]["churned_in_window"] == want["churned_in_window"]
    assert j["excluded"].get("not_yet_observable", 0) == want["not_yet_observable"]
    assert {c["column"] for c in j["candidates"]} == {"lessons_first_14d", "logins_first_14d"}


def test_explicit_cancellation_with_earlier_as_of(capsys, tmp_path, data):
    """--as-of 2025-09-30: later cancellations are censored, late signups and the landmark too."""
    table = cancellation_table(data)
    path = tmp_path / "users_cancel.csv"
    table.to_csv(path, index=False, date_format=DATE_FORMAT)
    as_of = "2025-09-30"
    j, _, _ = rank(
        capsys, tmp_path / "r.json",
        "--users", str(path), "--signup-col", "signup_at", "--churn-col", "cancelled_at",
        "--as-of", as_of, *BOOT,
    )  # fmt: skip
    want = expected_cancellation_outcomes(table, as_of)
    assert want["not_yet_observable"] > 0 and want["signed_up_after_as_of"] > 0
    assert j["settings"]["as_of"] == as_of
    assert j["n_users"] == want["n_users"]
    assert j["n_churned"] == want["n_churned"]
    assert j["excluded"]["churned_in_window"] == want["churned_in_window"]
    assert j["excluded"]["not_yet_observable"] == want["not_yet_observable"]
    # users-table signups after the as-of date are left out *and counted*
    assert j["excluded"].get("users_signed_up_after_as_of") == want["signed_up_after_as_of"]


def test_cancellation_just_after_as_of_is_censored(capsys, tmp_path, data):
    table = cancellation_table(data)
    as_of = "2025-09-30"
    a_end = pd.Timestamp(as_of) + DAY
    # Users active at the as-of date who signed up late in a day, well before it: move their
    # cancellation to 01:00 the day after the as-of date. Nobody could know it on the as-of date.
    hour = table["signup_at"].dt.hour
    active = table["cancelled_at"].isna() | (table["cancelled_at"] >= a_end)
    early = table["signup_at"] < pd.Timestamp(as_of) - pd.Timedelta(days=60)
    moved = table.index[active & early & (hour >= 6)][:5]
    assert len(moved) == 5
    table.loc[moved, "cancelled_at"] = a_end + pd.Timedelta(hours=1)
    path = tmp_path / "users_cancel.csv"
    table.to_csv(path, index=False, date_format=DATE_FORMAT)
    j, _, _ = rank(
        capsys, tmp_path / "r.json",
        "--users", str(path), "--signup-col", "signup_at", "--churn-col", "cancelled_at",
        "--as-of", as_of, *BOOT,
    )  # fmt: skip
    want = expected_cancellation_outcomes(table, as_of)
    assert j["n_users"] == want["n_users"]
    assert j["n_churned"] == want["n_churned"]


def test_candidates_flag_restricts_to_named_events(capsys, tmp_path, files):
    j, _, _ = rank(
        capsys, tmp_path / "r.json",
        "--events", str(files["events_parquet"]), "--revenue-event", "payment", *BOOT,
        "--candidates", "lesson_completed,login",
    )  # fmt: skip
    assert j["settings"]["candidates"] == ["lesson_completed", "login"]
    events = [c["event"] for c in j["candidates"]]
    assert set(events) == {"lesson_completed", "login"}
    assert sum(p["p_first"] for p in j["candidates"]) == pytest.approx(1.0)


def test_events_before_signup_are_dropped_counted_and_warned(capsys, tmp_path, data):
    """A users table whose signup comes after some of a user's events is not an error."""
    users = data.users.copy()
    shifted = (users.index % 5 == 0) & (users["signup_at"] < pd.Timestamp("2025-12-01"))
    users.loc[shifted, "signup_at"] += pd.Timedelta(days=2)
    new_signup = users.set_index("user_id")["signup_at"]
    ev = data.events
    n_before = int((ev["timestamp"] < ev["user_id"].map(new_signup)).sum())
    assert n_before > 0
    events_path, users_path = tmp_path / "events.parquet", tmp_path / "users.csv"
    ev.to_parquet(events_path, index=False)
    users.to_csv(users_path, index=False, date_format=DATE_FORMAT)
    j, out, _ = rank(
        capsys, tmp_path / "r.json",
        "--events", str(events_path), "--users", str(users_path),
        "--revenue-event", "payment", *BOOT,
    )  # fmt: skip
    assert j["excluded"]["events_before_signup"] == n_before
    message = f"{n_before:,} events before the user's signup were dropped"
    assert any(message in w for w in j["warnings"])
    assert message in out


# --- bad input: exit 2 with one paragraph that names the file and the problem -----------------


@dataclass(frozen=True)
class BadInput:
    args: str  # CLI arguments; {name} stands for the path of the broken file `name`
    expect: tuple[str, ...]  # fragments of the message


BAD_INPUTS = {
    "no_timestamp_column": BadInput(
        "--events {events_no_ts.csv}",
        ("events_no_ts.csv", "no timestamp column", "'user_id', 'event', 'value'"),
    ),
    "user_col_missing": BadInput(
        "--events {events.parquet} --user-col nope", ("events.parquet", "'nope'", "missing")
    ),
    "unparsable_timestamps": BadInput(
        "--events {events_bad_ts.csv}",
        ("events_bad_ts.csv", "3 values that are not dates", "rows 3, 10, 50", "'not a date'"),
    ),
    "empty_event_log": BadInput("--events {empty.csv}", ("empty.csv", "empty (0 bytes)")),
    "empty_users_table": BadInput(
        "--users {empty_users.csv}", ("empty_users.csv", "empty (0 bytes)")
    ),
    "header_only_event_log": BadInput(
        "--events {events_header.csv}", ("events_header.csv", "no rows")
    ),
    "header_only_users_table": BadInput(
        "--users {users_header.csv}", ("users_header.csv", "no rows")
    ),
    "duplicate_user_ids": BadInput(
        "--events {events.parquet} --users {users_dup.csv}",
        ("users_dup.csv", "more than once", "'u000011'"),
    ),
    "no_churn_events": BadInput(
        "--users {summary_no_churn.csv} --duration-col tenure_days --event-col churned",
        ("No churn events",),
    ),
    "constant_event_candidate": BadInput(
        "--events {events_onboarding.csv} --candidates onboarding_done",
        ("onboarding_done", "same value for every user"),
    ),
    "constant_users_column": BadInput(
        "--users {summary_const.csv} --duration-col tenure_days --event-col churned "
        "--candidates const_col",
        ("const_col", "same value for every user"),
    ),
    "unknown_source_scheme": BadInput(
        "--source foo://x --events-table t", ("'foo://'", "Unknown source scheme")
    ),
    "missing_events_file": BadInput(
        "--events {nowhere/events.parquet}", ("nowhere/events.parquet", "not found")
    ),
    "missing_users_file": BadInput("--users {nowhere/users.csv}", ("users.csv", "not found")),
}

# Data problems whose message does not (yet) say which file it is about.
NAMES_NO_FILE = {
    "no_churn_events": "summary_no_churn.csv",
    "constant_event_candidate": "events_onboarding.csv",
    "constant_users_column": "summary_const.csv",
}


@pytest.fixture(scope="module")
def bad_files(data: SampleData, files, tmp_path_factory) -> Path:
    """One directory holding every broken file of BAD_INPUTS."""
    d = tmp_path_factory.mktemp("bad_inputs")
    ev, summary = data.events, data.users_summary
    (d / "events.parquet").write_bytes(files["events_parquet"].read_bytes())
    ev[["user_id", "event", "value"]].to_csv(d / "events_no_ts.csv", index=False)
    bad = ev.head(200).copy()
    bad["timestamp"] = bad["timestamp"].dt.strftime(DATE_FORMAT)
    bad.loc[[2, 9, 49], "timestamp"] = "not a date"  # data rows 3, 10 and 50
    bad.to_csv(d / "events_bad_ts.csv", index=False)
    (d / "empty.csv").write_bytes(b"")
    (d / "empty_users.csv").write_bytes(b"")
    ev.head(0).to_csv(d / "events_header.csv", index=False)
    data.users.head(0).to_csv(d / "users_header.csv", index=False)
    dup = pd.concat([data.users, data.users.iloc[[10]]], ignore_index=True)
    dup.to_csv(d / "users_dup.csv", index=False, date_format=DATE_FORMAT)
    summary.assign(churned=0).to_csv(d / "summary_no_churn.csv", index=False)
    summary.assign(const_col=3).to_csv(d / "summary_const.csv", index=False)
    # Every user does 'onboarding_done' exactly once, at their first event.
    first = ev.groupby("user_id", as_index=False)["timestamp"].min()
    onboarding = first.assign(event="onboarding_done", value=np.nan)
    with_onboarding = pd.concat([ev, onboarding], ignore_index=True).sort_values("timestamp")
    with_onboarding.to_csv(d / "events_onboarding.csv", index=False, date_format=DATE_FORMAT)
    return d


def bad_args(case: BadInput, directory: Path) -> list[str]:
    return [str(directory / a[1:-1]) if a.startswith("{") else a for a in case.args.split()]


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_clear_paragraph(name, capsys, bad_files):
    case = BAD_INPUTS[name]
    code = main(["rank", *bad_args(case, bad_files), "--bootstrap", "0", "--quiet"])
    out, err = capsys.readouterr()
    assert_clean_error(code, out, err)
    for fragment in case.expect:
        assert fragment in err, (fragment, err)


@pytest.mark.parametrize("name", list(NAMES_NO_FILE))
def test_data_problem_message_names_the_file(name, capsys, bad_files):
    code = main(["rank", *bad_args(BAD_INPUTS[name], bad_files), "--bootstrap", "0", "--quiet"])
    out, err = capsys.readouterr()
    assert_clean_error(code, out, err)
    assert NAMES_NO_FILE[name] in err, err


def test_module_entry_point_exits_2_without_traceback(bad_files):
    """End to end: `python -m northstar_lab rank` on a broken file, in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "NORTHSTAR_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "northstar_lab", "rank", "--quiet",
         "--events", str(bad_files / "events_bad_ts.csv")],
        cwd=bad_files, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: events_bad_ts.csv: ")
    assert "not dates" in proc.stderr
    assert proc.stdout == ""
