"""Work done ahead of a person (issue 12): the Adjusted tab's views fitted in the background
are the very results the tab would compute, keyed so they are shown for their own data and
covariates only, and the worker waits while a page is being drawn."""

from __future__ import annotations

import threading
import time

import pytest

import northstar_lab.stats.adjusted as adjusted_module
from northstar_lab.settings import AnalysisSettings
from pages import shared

from .conftest import assert_clean, by_label, new_app, open_tab, table_with, texts


@pytest.fixture(autouse=True)
def _db(module_db):
    return module_db


def wait_until_fitted(timeout_s: float = 180) -> None:
    """Until the background worker has no job left (its `pending` set is empty)."""
    worker = shared._fit_worker()
    deadline = time.monotonic() + timeout_s
    while worker["pending"]:
        assert time.monotonic() < deadline, f"still fitting: {worker['pending']}"
        time.sleep(0.1)


def test_the_adjusted_tab_shows_the_views_fitted_ahead_without_fitting_again(monkeypatch):
    wait_until_fitted()  # fits queued by earlier tests would land in the slots cleared next
    shared._derived_slot.clear()  # nothing fitted yet, whatever ran before in this process
    worker = shared._fit_worker()
    worker["done"].clear()
    monkeypatch.setattr(shared, "PAGE_DRAW_S", 0.0)  # no browser here to wait for
    at = new_app().run()
    at.button(key="try_sample").click().run()
    assert_clean(at)
    wait_until_fitted()
    key = "count:lesson_completed"  # the sample's leader, the candidate shown first
    by_worker = {(k, c) for _ref, _settings, k, c in worker["done"]}
    assert {(key, ()), (key, ("plan",)), (key, ("signup month",))} <= by_worker

    def refuse(*_a, **_k):
        raise AssertionError("the page fitted a view the worker had fitted")

    monkeypatch.setattr(adjusted_module, "adjusted_view", refuse)
    monkeypatch.setattr(shared, "_adjusted_view", refuse)  # nor asked the child to
    at = open_tab(at, "Adjusted")
    assert_clean(at)
    by_label(at.multiselect, "Adjust for (optional)").set_value(["plan"]).run()
    assert_clean(at)
    assert "Adjusted for: plan" in texts(at.text)
    assert table_with(at, "gain in C (95% CI)").iloc[0]["candidate"]


def test_a_view_fitted_ahead_is_shown_for_its_own_covariates_only(monkeypatch):
    monkeypatch.setattr(shared, "PAGE_DRAW_S", 0.0)
    at = open_tab(new_app().run().button(key="try_sample").click().run(), "Adjusted")
    wait_until_fitted()
    an = shared._analysed(*shared._analysis_keys(shared.SAMPLE, AnalysisSettings()))
    key = an.ranking.leader.key
    for covariates in (["plan"], ["signup month"], []):
        by_label(at.multiselect, "Adjust for (optional)").set_value(covariates).run()
        assert_clean(at)
        row = table_with(at, "gain in C (95% CI)").iloc[0]
        own = adjusted_module.adjusted_view(an, key, covariates, seed=an.settings.seed)
        assert row["HR / SD adjusted (95% CI)"].startswith(f"{own.hazard_ratio:.2f} ")
        assert row["held-out C: active days"] == round(own.c_base, 3)
        assert row["held-out C: + candidate"] == round(own.c_full, 3)


def test_the_worker_waits_while_a_page_is_drawn(monkeypatch):
    monkeypatch.setattr(shared, "PAGE_DRAW_S", 0.0)
    done = threading.Event()
    with shared.page_run():
        threading.Thread(target=lambda: (shared._wait_for_quiet(), done.set())).start()
        time.sleep(2 * shared.QUIET_S)
        assert not done.is_set()  # a page run is in progress
    assert not done.wait(shared.QUIET_S / 3)  # just ended: still waiting for quiet
    assert done.wait(10)


def test_the_worker_waits_for_the_browser_to_draw_a_whole_page(monkeypatch):
    """After a whole page's run the browser is still drawing it: no fit for PAGE_DRAW_S,
    while a fragment's run only asks for QUIET_S."""
    monkeypatch.setattr(shared, "PAGE_DRAW_S", 1.0)
    with shared.page_run(whole_page=True):
        pass
    done = threading.Event()
    threading.Thread(target=lambda: (shared._wait_for_quiet(), done.set())).start()
    assert not done.wait(0.6)  # past QUIET_S, within PAGE_DRAW_S
    assert done.wait(10)


def _page_fits_before_the_worker(monkeypatch):
    """A fresh sample analysis whose Adjusted views nobody has fitted: the worker is held back
    (a browser still drawing, as far as it knows) and the fitted slots are cleared."""
    wait_until_fitted()
    shared._derived_slot.clear()
    monkeypatch.setattr(shared, "PAGE_DRAW_S", 1e6)
    return new_app().run().button(key="try_sample").click().run()


def _raises(exc: Exception):
    def raising(*_a, **_k):
        raise exc

    return raising


def _adjusted_tab_shows_a_view(at) -> None:
    at = open_tab(at, "Adjusted")
    assert_clean(at)
    assert table_with(at, "gain in C (95% CI)").iloc[0]["candidate"]


def test_a_view_asked_before_the_worker_fitted_it_is_fitted_in_the_child(monkeypatch):
    at = _page_fits_before_the_worker(monkeypatch)
    asked = []
    fitter = shared._fit_worker()["fitter"]
    real = fitter.adjusted
    monkeypatch.setattr(fitter, "adjusted", lambda *a: asked.append(a[2:]) or real(*a))
    refuse = _raises(AssertionError("the page fitted in the server process"))
    monkeypatch.setattr(adjusted_module, "adjusted_view", refuse)
    _adjusted_tab_shows_a_view(at)
    assert asked and asked[0] == ("count:lesson_completed", ())


def test_a_failing_child_leaves_the_fit_to_the_page(monkeypatch):
    from northstar_lab.background import ChildDied

    at = _page_fits_before_the_worker(monkeypatch)
    monkeypatch.setattr(shared._fit_worker()["fitter"], "adjusted", _raises(ChildDied("gone")))
    _adjusted_tab_shows_a_view(at)
