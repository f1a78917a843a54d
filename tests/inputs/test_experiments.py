"""Past experiments (inputs/experiments.py): reading assignments, arm effects by hand, and the
noise-corrected correlation of effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.errors import InputError
from northstar_lab.inputs.experiments import (
    arm_effects,
    effect_correlation,
    read_assignments,
)


def test_assignments_are_recognised_and_validated():
    df = pd.DataFrame(
        {
            "User ID": ["u1", "u2", "u3", "u4", "u4", "u5"],
            "test_name": ["x", "x", "x", "x", "x", "y"],
            "Arm": ["Control", "B", "B", "Control", "B", "only"],
            "exposed_at": ["2025-01-01", "2025-01-02", "2025-01-02 10:00", "2025-01-03",
                           "2025-01-03", "2025-02-01"],
        }
    )  # fmt: skip
    a = read_assignments(df, "a.csv")
    assert a.controls == {"x": "Control"}
    assert sorted(a.frame.user_id) == ["u1", "u2", "u3"]  # u4 in both arms, y has one variant
    assert any("more than one variant" in n for n in a.notes)
    assert any("one variant only" in n for n in a.notes)
    assert a.frame.assigned_sec.iloc[0] == pd.Timestamp("2025-01-01").timestamp()


def test_assignment_problems_are_reported_together():
    df = pd.DataFrame(
        {"user_id": ["u1", None], "experiment": ["x", "x"], "variant": ["control", "b"],
         "assigned_at": ["soon", "2025-01-01"]}
    )  # fmt: skip
    with pytest.raises(InputError) as err:
        read_assignments(df, "a.csv")
    assert "2 problems" in str(err.value) and "not times" in str(err.value)
    assert "'user_id' is empty in row 2" in str(err.value)
    with pytest.raises(InputError, match="cannot find the variant"):
        read_assignments(df.drop(columns="variant"), "a.csv")


def test_arm_effects_are_welch_differences_and_covariances():
    rng = np.random.default_rng(0)
    n = 400
    values = pd.DataFrame(
        {
            "experiment": "x",
            "variant": np.where(np.arange(n) < 200, "control", "treatment"),
            "m": rng.normal(size=n) + (np.arange(n) >= 200) * 0.5,
        }
    )
    values["__ns"] = 0.5 * values["m"] + rng.normal(size=n)
    rows, arms = arm_effects(values, {"x": "control"}, ["m"])
    m = next(r for r in rows if r.metric == "m")
    t, c = values[values.variant == "treatment"], values[values.variant == "control"]
    assert m.effect == pytest.approx(t.m.mean() - c.m.mean())
    assert m.se == pytest.approx(np.sqrt(t.m.var() / 200 + c.m.var() / 200))
    eff, var, cov = arms["x / treatment"]
    want = np.cov(t.m, t["__ns"])[0, 1] / 200 + np.cov(c.m, c["__ns"])[0, 1] / 200
    assert cov["m"] == pytest.approx(want)
    assert m.n_treatment == m.n_control == 200


def _arms(true_x, true_y, se_x, se_y, rng):
    return {
        f"e{i}": (
            pd.Series({"m": tx + rng.normal(0, se_x), "__ns": ty + rng.normal(0, se_y)}),
            pd.Series({"m": se_x**2, "__ns": se_y**2}),
            pd.Series({"m": 0.0, "__ns": se_y**2}),
        )
        for i, (tx, ty) in enumerate(zip(true_x, true_y, strict=True))
    }


def test_the_noise_correction_undoes_the_attenuation_of_noisy_effects():
    rng = np.random.default_rng(1)
    true_x = np.linspace(0, 1, 12)
    raw, corrected = [], []
    for _ in range(300):
        c = effect_correlation("m", _arms(true_x, 0.8 * true_x, 0.05, 0.15, rng))
        raw.append(c.raw_corr)
        corrected.append(np.nan if c.corr is None else c.corr)
    assert np.mean(raw) < 0.9  # noise pulls the plain correlation down …
    assert np.nanmean(corrected) > 0.95  # … and the correction brings it back near 1
    assert np.isnan(corrected).mean() < 0.1
    c = effect_correlation("m", _arms(true_x, 0.8 * true_x, 0.05, 0.05, rng))
    assert c.n_experiments == 12 and c.ci_low < c.corr <= c.ci_high <= 1
    assert c.slope == pytest.approx(0.8, abs=0.4)


def test_an_input_no_experiment_moved_has_no_correlation_and_few_arms_none():
    rng = np.random.default_rng(2)
    c = effect_correlation("m", _arms(np.zeros(8), np.linspace(0, 1, 8), 0.1, 0.1, rng))
    assert c.corr is None and c.moved_p >= 0.05 and "no experiment moved it" in c.note
    c = effect_correlation("m", _arms([0, 1, 2], [0, 1, 2], 0.1, 0.1, rng))
    assert c.corr is None and c.n_experiments == 3 and "fewer than 4" in c.note
