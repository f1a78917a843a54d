"""Fixtures for the input-metrics tests: Lumen Learn samples analysed once per module.

The generator plants the story (sample/story.py): `goal_set` in the first 14 days drives lessons
completed later; `streak_viewed` rides along with lessons; eight past experiments moved the two
by different amounts. `null=True` cuts every link from the first 14 days to what comes later.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from northstar_lab.analysis import Analysis, analyse
from northstar_lab.data.load import LoadedData, load_inputs
from northstar_lab.sample import SampleData, generate_product
from northstar_lab.settings import AnalysisSettings

NORTH_STAR = "count:lesson_completed"
DRIVER = "count:goal_set"
RIDER = "count:streak_viewed"


@dataclass
class Analysed:
    data: SampleData
    loaded: LoadedData
    analysis: Analysis
    folder: object


def analysed(tmp_path_factory, n_users: int, seed: int, null: bool = False) -> Analysed:
    """A sample written to Parquet/CSV, loaded and ranked (no bootstrap: not needed here)."""
    data = generate_product(n_users, seed=seed, null=null)
    folder = tmp_path_factory.mktemp(f"lumen_{seed}_{'null' if null else 'planted'}")
    data.events.to_parquet(folder / "events.parquet", index=False)
    data.users.to_csv(folder / "users.csv", index=False)
    data.assignments.to_csv(folder / "assignments.csv", index=False)
    loaded = load_inputs(str(folder / "events.parquet"), str(folder / "users.csv"))
    analysis = analyse(loaded, AnalysisSettings(n_bootstrap=0))
    return Analysed(data, loaded, analysis, folder)


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Analysed:
    """One small planted sample for the fast tests."""
    return analysed(tmp_path_factory, 3000, seed=5)
