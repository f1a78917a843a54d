"""Retention flags at fixed days (Cookie Cats' retention_1 and retention_7: did the player come
back 1 and 7 days after installing?) give no time of churn. A table with only those was
refused with the general "cannot tell who churned", which did not say why the two columns
that look like the answer are not one; beside a real duration and churn flag, such a flag was
proposed as a candidate, and predicted retention by being it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.data.proposals import fixed_day_retention, recognise_user_columns
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings


def _cookie_cats(n: int = 600, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rounds = rng.negative_binomial(1, 0.02, n)
    back_1 = rng.random(n) < 1 / (1 + np.exp(-(rounds - 20) / 15))
    back_7 = rng.random(n) < 1 / (1 + np.exp(-(rounds - 60) / 25))
    return pd.DataFrame({
        "userid": rng.permutation(np.arange(116, 116 + 3 * n, 3)),
        "version": rng.choice(["gate_30", "gate_40"], n), "sum_gamerounds": rounds,
        "retention_1": back_1, "retention_7": back_7,
    })  # fmt: skip


def test_a_table_of_fixed_day_flags_only_says_why_they_are_no_churn(tmp_path):
    _cookie_cats().to_csv(tmp_path / "cookie_cats.csv", index=False)
    loaded = load_inputs(None, str(tmp_path / "cookie_cats.csv"))
    with pytest.raises(InputError) as err:
        analyse(loaded, AnalysisSettings(n_bootstrap=0))
    msg = str(err.value)
    assert "'retention_1' and 'retention_7' say whether each user was back on a fixed day" in msg
    assert "a duration column with a churn flag" in msg


def test_one_fixed_day_flag_is_named_alone(tmp_path):
    df = _cookie_cats().drop(columns="retention_1").rename(columns={"retention_7": "D30Retained"})
    df.to_csv(tmp_path / "players.csv", index=False)
    loaded = load_inputs(None, str(tmp_path / "players.csv"))
    with pytest.raises(InputError, match="'D30Retained' says whether each user was back"):
        analyse(loaded, AnalysisSettings(n_bootstrap=0))


def test_a_fixed_day_flag_beside_a_real_churn_is_no_candidate():
    rng = np.random.default_rng(9)
    n = 500
    df = _cookie_cats(n).assign(
        tenure_days=rng.integers(1, 400, n), churned=(rng.random(n) < 0.5).astype(int),
        active_days_7=rng.integers(0, 8, n),  # a count over a week: a behaviour
    )  # fmt: skip
    cols = recognise_user_columns(df)
    assert cols.duration == "tenure_days" and cols.churn == "churned"
    assert "retention_1" not in cols.behaviour and "retention_7" not in cols.behaviour
    assert "sum_gamerounds" in cols.behaviour and "active_days_7" in cols.behaviour


@pytest.mark.parametrize(
    ("name", "values", "found"),
    [
        ("retention_7", [True, False, True], True),
        ("Retention7", ["yes", "no", "no"], True),
        ("d30_retained", [1, 0, 1], True),
        ("isRetainedD7", [1.0, 0.0, np.nan], True),
        ("active_day_14", ["True", "False", "True"], True),
        ("active_days_7", [3, 0, 7], False),  # a count, not a flag
        ("retained", [1, 0, 1], False),  # no day: a churn flag's business, not this one's
        ("returned_items_30", [4, 0, 2], False),
        ("plan_2", [1, 0, 1], False),
    ],
)  # fmt: skip
def test_fixed_day_flags_are_told_by_a_return_word_a_day_and_yes_no_values(name, values, found):
    df = pd.DataFrame({"user_id": ["a", "b", "c"], name: values})
    assert (fixed_day_retention(df) == (name,)) is found
