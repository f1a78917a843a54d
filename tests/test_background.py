"""The background process fits exactly what a fit in the server would, and survives its own
death: the Adjusted tab shows its results as the page's own (issue 12)."""

from __future__ import annotations

import dataclasses

import pytest

from northstar_lab.analysis import analyse
from northstar_lab.background import BackgroundFitter
from northstar_lab.data.load import load_inputs
from northstar_lab.sample import write_sample
from northstar_lab.settings import AnalysisSettings
from northstar_lab.stats.adjusted import adjusted_view


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    paths = write_sample(tmp_path_factory.mktemp("sample"), n_users=1500, seed=3)
    loaded = load_inputs(events=str(paths["events"]), users=str(paths["users"]))
    return analyse(loaded, AnalysisSettings(n_bootstrap=0))


@pytest.fixture
def fitter():
    f = BackgroundFitter()
    yield f
    f.close()


def _same(a, b) -> None:
    """Every figure equal to the last bit (the child runs the very same code)."""
    assert dataclasses.asdict(a) == dataclasses.asdict(b)


def test_the_child_fits_what_the_server_would(analysis, fitter):
    key = analysis.ranking.leader.key
    for covariates in ((), ("plan",)):
        got = fitter.adjusted("a", analysis, key, covariates)
        _same(got, adjusted_view(analysis, key, list(covariates), seed=analysis.settings.seed))


def test_an_analysis_is_sent_once_and_a_dead_child_is_replaced(analysis, fitter):
    key = analysis.ranking.leader.key
    first = fitter.adjusted("a", analysis, key, ())
    assert fitter._held == ["a"]
    fitter._child.kill()
    fitter._child.wait()
    _same(fitter.adjusted("a", analysis, key, ()), first)  # a new child, sent it again
    assert fitter._held == ["a"]


def test_a_failed_fit_is_raised_in_the_server(analysis, fitter):
    with pytest.raises(Exception, match="nope"):
        fitter.adjusted("a", analysis, analysis.ranking.leader.key, ("nope",))
    key = analysis.ranking.leader.key
    assert fitter.adjusted("a", analysis, key, ()).hazard_ratio > 0  # the child lives on


def test_one_fitter_per_process():
    from northstar_lab.background import shared_fitter

    assert shared_fitter() is shared_fitter()
