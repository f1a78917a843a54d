"""The analysis path's own rules (METHODS §2): the revenue event as a candidate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.cli import main
from northstar_lab.data.load import load_inputs
from northstar_lab.settings import AnalysisSettings

START = pd.Timestamp("2025-01-01")


def shop_log(seed: int = 3, n: int = 1500, browse: bool = False) -> pd.DataFrame:
    """A shop's purchase log: buyers who purchase more often early also stay longer."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    signup = rng.uniform(0, 300, n)  # days after START
    life = rng.exponential(90 * np.exp(0.5 * z))
    rate = 0.25 * np.exp(0.6 * z)  # purchases per day
    rows = []
    for u in range(n):
        span = min(life[u], 420 - signup[u])
        k = rng.poisson(rate[u] * span) + 1
        days = np.sort(np.r_[0.0, rng.uniform(0, span, k - 1)])
        for d in days:
            rows.append((f"u{u}", START + pd.Timedelta(days=signup[u] + d), "purchase",
                         round(float(rng.lognormal(3, 0.5)), 2)))  # fmt: skip
            if browse and rng.random() < 0.5:
                rows.append((f"u{u}", START + pd.Timedelta(days=signup[u] + d), "browse", None))
    return pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "value"])


@pytest.fixture(scope="module")
def shop_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("shop")
    only, mixed = d / "purchases.parquet", d / "mixed.parquet"
    shop_log().to_parquet(only, index=False)
    shop_log(browse=True).to_parquet(mixed, index=False)
    return only, mixed


def test_purchase_only_log_offers_transactions_as_candidates(shop_files):
    an = analyse(load_inputs(str(shop_files[0])), AnalysisSettings(n_bootstrap=0))
    r = an.ranking
    names = [c.name for c in r.candidates]
    assert "purchase: transactions in first 14 days" in names, names
    assert "purchase: days with a transaction in first 14 days" in names
    tx = r.candidate("count:purchase")
    assert tx.direction == "more is better" and not tx.noise_level
    assert r.candidates[0].event == "purchase"  # the planted driver of this shop
    assert any("revenue event 'purchase' is also a candidate" in n for n in r.notes)
    assert tx.revenue_rho is not None  # revenue (from day 14 on) is still the outcome
    assert any("transactions in first 14 days" in c.name and c.kind == "at_least"
               for c in r.candidates)  # fmt: skip


def test_revenue_event_is_only_a_candidate_when_asked_if_other_behaviour_exists(shop_files):
    loaded = load_inputs(str(shop_files[1]))
    plain = analyse(loaded, AnalysisSettings(n_bootstrap=0)).ranking
    assert not any(c.event == "purchase" for c in plain.candidates)
    asked = analyse(loaded, AnalysisSettings(n_bootstrap=0, include_revenue_event=True)).ranking
    assert asked.find("count:purchase").name == "purchase: transactions in first 14 days"
    assert any("as asked" in n for n in asked.notes)


def test_cli_include_revenue_event_flag(shop_files, capsys, tmp_path):
    code = main(["rank", "--events", str(shop_files[1]), "--include-revenue-event",
                 "--bootstrap", "0", "--quiet", "--json", str(tmp_path / "r.json")])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "purchase: transactions in first 14 days" in out


def test_event_log_refuses_a_zero_window_with_a_clear_cli_error(shop_files, capsys):
    code = main(["rank", "--events", str(shop_files[0]), "--window-days", "0",
                 "--bootstrap", "0", "--quiet"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err and out == ""
    assert "≥ 1 for an event log" in err and "--window-days" in err
