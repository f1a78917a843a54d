"""Adjusted view on the sample: lessons add over active days and covariates, logins do not."""

import numpy as np
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.load import load_inputs
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings
from northstar_lab.stats.adjusted import adjusted_view, available_covariates


@pytest.fixture(scope="module")
def sample():
    loaded = load_inputs("sample_data/events.parquet", "sample_data/users.csv")
    return analyse(loaded, AnalysisSettings(n_bootstrap=0)), loaded


def test_available_covariates(sample):
    an, loaded = sample
    assert available_covariates(an.frame, loaded.users.columns.segments) == [
        "plan", "channel", "country", "signup month"
    ]  # fmt: skip


def test_planted_driver_adds_over_active_days_and_logins_do_not(sample):
    an, _ = sample
    covs = ["plan", "channel", "signup month"]
    lessons = adjusted_view(an, "count:lesson_completed", covs, n_boot=100)
    logins = adjusted_view(an, "count:login", covs, n_boot=100)
    assert lessons.hr_ci_high < 1 and lessons.lr_p < 1e-10
    assert lessons.c_gain_ci[0] > 0.03  # clearly better than active days + covariates
    assert logins.c_gain_ci[0] < 0 < logins.c_gain_ci[1] or logins.c_gain < 0.01
    # plan is chosen at signup and does not confound lessons: adjusting barely moves the HR
    assert lessons.hazard_ratio == pytest.approx(lessons.hazard_ratio_unadjusted, rel=0.03)
    unadjusted = an.ranking.candidate("count:lesson_completed").hazard_ratio
    assert lessons.hazard_ratio_unadjusted == pytest.approx(unadjusted, rel=1e-4)
    assert np.isfinite(lessons.c_full) and lessons.c_full > lessons.c_base


def test_unknown_covariate_is_a_clear_error(sample):
    an, _ = sample
    with pytest.raises(InputError, match="Cannot adjust for 'nope'"):
        adjusted_view(an, "count:lesson_completed", ["nope"], n_boot=10)


def test_at_least_candidate_adjusted_view_uses_held_out_users_only(sample):
    """A '≥ k' candidate's k was chosen on the training half: its adjusted view, like its
    leaderboard row, must rest on held-out users, and say so."""
    an, _ = sample
    key = "atleast:count:lesson_completed"
    view = adjusted_view(an, key, ["plan"], n_boot=50)
    held_out = an.outcomes.retention_mask & ~an.train
    assert view.n == int(held_out.sum()) == an.ranking.candidate(key).n
    assert view.n_events == int(an.outcomes.event_all[held_out].sum())
    assert view.evaluated_on == "held-out users"
    assert any("half the data" in n for n in view.notes)
    base = adjusted_view(an, "count:lesson_completed", ["plan"], n_boot=50)
    assert base.n == an.ranking.n_users and base.evaluated_on == "all users"
