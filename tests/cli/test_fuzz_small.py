"""Small random users tables and event logs, ranked end to end: every run ends in a ranking or
a clear error (exit 2), never an internal error. The cases this found (fewer than 20 users, no
comparable pair, a held-out half without churn) each have their own test; this guards the
class (seeded, so a failure reproduces)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab import cli


def _users_table(rng, path):
    n = int(rng.integers(15, 80))
    churned = (rng.random(n) < rng.uniform(0.02, 0.98)).astype(int)
    frame = pd.DataFrame({"user_id": [f"u{i}" for i in range(n)],
                          "tenure_days": rng.integers(0, int(rng.integers(2, 400)), n),
                          "churned": churned})  # fmt: skip
    for j in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(0, 4))
        if kind == 0:
            frame[f"c{j}"] = rng.poisson(rng.uniform(0.01, 5), n)
        elif kind == 1:
            frame[f"c{j}"] = rng.normal(size=n)
        elif kind == 2:
            frame[f"c{j}"] = np.where(rng.random(n) < 0.3, np.nan, rng.poisson(2, n))
        else:
            frame[f"c{j}"] = 7
    frame.to_csv(path, index=False)
    return ["--users", str(path), "--duration-col", "tenure_days", "--event-col", "churned"]


def _event_log(rng, path):
    n = int(rng.integers(5, 120))
    per = rng.integers(1, int(rng.integers(2, 40)), n)
    users = np.repeat([f"u{i}" for i in range(n)], per)
    start = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
    hours = rng.integers(0, int(rng.integers(1, 400)), users.size) * int(rng.integers(1, 30))
    kinds = [f"e{k}" for k in range(int(rng.integers(1, 5)))] + ["pay"]
    event = rng.choice(kinds, users.size)
    when = np.repeat(start.values, per) + pd.to_timedelta(hours, unit="h").values
    pd.DataFrame({"user_id": users,
                  "timestamp": when,
                  "event": event,
                  "value": np.where(event == "pay", rng.gamma(1, 20, users.size), np.nan)}
                 ).to_csv(path, index=False)  # fmt: skip
    window = str(int(rng.choice([1, 7, 14])))
    return ["--events", str(path), "--window-days", window, "--revenue-event", "pay"]


@pytest.mark.parametrize("seed", range(24))
def test_small_random_inputs_rank_or_say_why(seed, tmp_path, capsys):
    rng = np.random.default_rng(1000 + seed)
    make = _users_table if seed % 2 else _event_log
    args = make(rng, tmp_path / "data.csv")
    code = cli.main(["rank", *args, "--quiet", "--bootstrap", str(int(rng.choice([0, 20])))])
    out, err = capsys.readouterr()
    assert code in (0, 2), err
    assert "internal error" not in err and "Traceback" not in err
    if code == 0:  # a leaderboard: its population line and a first row
        assert out.startswith("North Star Lab — ") and "users in the retention analysis" in out
        assert "\n  1  " in out, out[:400]
    else:  # words for a person: what is wrong, ending in a sentence
        assert err.startswith("error: ") and err.rstrip().endswith("."), err
        assert "user" in err or "data.csv" in err or "candidate" in err, err
