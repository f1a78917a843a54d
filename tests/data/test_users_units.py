"""A users table's units, outcomes and window (METHODS §1.2, §1.3, §2).

Durations carry a unit (stated when the column's name does not say it); outcome columns are
never behaviour candidates; W = 0 is valid for a users table and refused for an event log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from northstar_lab.analysis import analyse
from northstar_lab.cli import main
from northstar_lab.data.load import load_inputs
from northstar_lab.data.proposals import looks_like_outcome, recognise_user_columns
from northstar_lab.data.users import duration_unit_needed
from northstar_lab.durations import unit_in_name
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings


@pytest.mark.parametrize(
    ("name", "unit"),
    [("tenure_months", "months"), ("duration_days", "days"), ("week", "weeks"),
     ("Tenure (weeks)", "weeks"), ("tenure_mo", "months"), ("tenure", None),
     ("duration", None), ("days_per_week", None), ("Tenure (years)", "years"),
     ("tenure_yrs", "years"), ("years_to_month_end", None)],
)  # fmt: skip
def test_unit_from_name(name, unit):
    assert unit_in_name(name) == unit


def test_duration_unit_needed_only_when_neither_name_nor_choice_says_it():
    assert duration_unit_needed("tenure")
    assert not duration_unit_needed("tenure", "months")
    assert not duration_unit_needed("tenure_months")
    assert not duration_unit_needed(None)


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return load_rossi().assign(user_id=lambda d: [f"r{i}" for i in range(len(d))])


def test_rossi_outcomes_are_recognised_not_offered_as_behaviour(rossi):
    cols = recognise_user_columns(rossi)
    assert (cols.duration, cols.churn, cols.duration_unit) == ("week", "arrest", "weeks")
    assert not {"week", "arrest"} & set(cols.behaviour)
    assert set(cols.behaviour) == {"fin", "race", "wexp", "mar", "paro", "prio"}  # age: a trait
    for name in ("tenure", "churned", "total_charges", "cancelled_at", "monthly_revenue"):
        assert looks_like_outcome(name), name
    assert not looks_like_outcome("lessons_first_14d")


def test_rossi_in_weeks_ranks_with_w0_and_speaks_in_weeks(rossi):
    loaded = load_inputs(users=rossi, users_label="rossi.csv")
    np.testing.assert_array_equal(loaded.users.frame["duration_days"], rossi["week"] * 7.0)
    settings = AnalysisSettings(window_days=0, horizon_days=7 * 26, n_bootstrap=0)
    an = analyse(loaded, settings)
    r = an.ranking
    assert r.n_users == len(rossi)  # W = 0: nobody is left out for churning "in the window"
    assert not {c.column for c in r.candidates} & {"week", "arrest"}
    prio = r.candidate("col:prio")  # Cox is unchanged by the time unit (METHODS §7)
    assert prio.coef_per_unit == pytest.approx(0.100966, abs=1e-5)
    assert prio.c_index == pytest.approx(0.587936, abs=1e-5)
    assert r.data.duration_unit == "weeks"
    assert any("26 weeks (182 days)" in n for n in r.notes), r.notes
    assert any("No observation window" in n for n in r.notes)


def test_unitless_duration_is_refused_with_both_hints(rossi):
    df = rossi.rename(columns={"week": "tenure"})
    with pytest.raises(InputError) as info:
        load_inputs(users=df, users_label="rossi.csv", user_columns={"churn": "arrest"})
    err = info.value
    assert "rossi.csv" in str(err) and "'tenure'" in str(err)
    assert "--duration-unit" in err.for_cli() and "--duration-unit" not in err.for_app()
    ok = load_inputs(users=df, user_columns={"churn": "arrest", "duration_unit": "weeks"})
    np.testing.assert_array_equal(ok.users.frame["duration_days"], df["tenure"] * 7.0)


def test_cli_names_duration_unit_when_the_unit_is_missing(rossi, tmp_path, capsys):
    path = tmp_path / "rossi.csv"
    rossi.rename(columns={"week": "tenure"}).to_csv(path, index=False)
    code = main(["rank", "--users", str(path), "--duration-col", "tenure", "--event-col",
                 "arrest", "--window-days", "0", "--bootstrap", "0", "--quiet"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert "rossi.csv" in err and "tenure" in err and "--duration-unit" in err
    code = main(["rank", "--users", str(path), "--duration-col", "tenure", "--event-col",
                 "arrest", "--duration-unit", "weeks", "--window-days", "0", "--bootstrap",
                 "0", "--quiet"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Guardrails" in out and "prio" in out.split("Guardrails")[1]


def test_behaviour_column_mapped_as_an_outcome_is_refused(rossi):
    with pytest.raises(InputError, match="cannot also be a behaviour"):
        load_inputs(users=rossi, user_columns={"behaviour": ("prio", "week")})


def test_settings_allow_w0_and_event_logs_refuse_it():
    s = AnalysisSettings(window_days=0)
    s.check_for_data(has_event_log=False)
    with pytest.raises(InputError) as info:
        s.check_for_data(has_event_log=True)
    assert "≥ 1 for an event log" in str(info.value) and "users table" in str(info.value)
    assert "--window-days" in info.value.for_cli()
    with pytest.raises(InputError, match="window_days must be ≥ 0"):
        AnalysisSettings(window_days=-1)


def test_revenue_column_is_never_also_a_candidate(rossi):
    noise = np.random.default_rng(0).uniform(0, 6, len(rossi))
    df = rossi.assign(spend=10.0 + rossi["prio"] * 2.0 + noise)  # named like nothing in particular
    loaded = load_inputs(users=df)
    assert "spend" in loaded.users.columns.behaviour  # proposed, as any numeric column is
    an = analyse(loaded, AnalysisSettings(window_days=0, revenue_col="spend", n_bootstrap=0))
    assert "spend" not in {c.column for c in an.ranking.candidates}
    # it does not grow with tenure, so it is read as given (a rate), not per observed month
    assert an.outcomes.revenue_source.startswith("'spend' from the users table, as given (")
    assert an.ranking.candidate("col:prio").revenue_rho > 0.5


def _bank_customers(n: int = 3000, seed: int = 12) -> pd.DataFrame:
    """A bank's customers as banks export them: Tenure in whole years (0–10), Exited 0/1,
    and two behaviours, one of which keeps customers (more products, lower hazard)."""
    rng = np.random.default_rng(seed)
    products = rng.integers(1, 5, n)
    balance = np.round(rng.gamma(2.0, 40_000, n), 2)
    years = rng.exponential(6.0 * np.exp(0.5 * (products - 2.5)), n)
    follow = rng.uniform(1, 11, n)
    return pd.DataFrame(
        {
            "CustomerId": 15_600_000 + np.arange(n),
            "Tenure": np.floor(np.minimum(years, follow)).clip(0, 10).astype(int),
            "Exited": (years <= follow).astype(int),
            "NumOfProducts": products,
            "Balance": balance,
        }
    )


def test_tenure_in_years_is_a_unit_and_is_spoken_in_years(tmp_path, capsys):
    """Years were not a unit: a bank's 'Tenure' (0–10 years) could only be misread as days,
    weeks or months. Now it is 365.25 days a year, asked for when the name does not say."""
    path = tmp_path / "Churn_Modelling.csv"
    bank = _bank_customers()
    bank.to_csv(path, index=False)
    args = ["rank", "--users", str(path), "--duration-col", "Tenure", "--event-col", "Exited",
            "--window-days", "0", "--horizon-days", "1096", "--bootstrap", "0",
            "--quiet"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "days, weeks, months or years" in err
    assert "--duration-unit days|weeks|months|years" in err
    loaded = load_inputs(users=str(path), user_columns={"duration": "Tenure", "churn": "Exited",
                                                        "duration_unit": "years"})  # fmt: skip
    np.testing.assert_array_equal(loaded.users.frame["duration_days"], bank["Tenure"] * 365.25)
    an = analyse(loaded, AnalysisSettings(window_days=0, horizon_days=1096, n_bootstrap=0))
    assert an.ranking.data.duration_unit == "years"
    assert any("3 years (1096 days)" in n for n in an.ranking.notes), an.ranking.notes
    leader = an.ranking.candidates[0]
    assert leader.key == "col:NumOfProducts" and leader.direction == "more is better"
    assert main([*args, "--duration-unit", "years"]) == 0
    assert "NumOfProducts" in capsys.readouterr().out


def test_row_numbers_and_camel_case_ids_are_not_behaviours(tmp_path):
    """A bank export carries RowNumber (1..n) and CustomerId; an analytics export userId or
    AccountID. None measures behaviour: they are left out of the candidates, a row number with
    a note (it is a column the user sees), and an explicit choice still ranks it."""
    bank = _bank_customers(400)
    bank.insert(0, "RowNumber", np.arange(1, len(bank) + 1))
    bank["AccountID"] = 9_000 + np.arange(len(bank))[::-1]
    bank["paid"] = np.random.default_rng(3).integers(0, 2, len(bank))  # 'paid' is no id
    path = tmp_path / "bank.csv"
    bank.to_csv(path, index=False)
    mapping = {"duration": "Tenure", "churn": "Exited", "duration_unit": "years"}
    loaded = load_inputs(users=str(path), user_columns=mapping)
    cols = loaded.users.columns
    assert cols.user == "CustomerId"
    assert set(cols.behaviour) == {"NumOfProducts", "Balance", "paid"}
    notes = [w for w in loaded.warnings if "RowNumber" in w]
    assert notes == [
        "bank.csv: column 'RowNumber' holds a different whole number for every user, counting "
        "up by one like a row number, so it was left out. Choose it as a behaviour column to "
        "rank it anyway."
    ]
    chosen = load_inputs(users=str(path), user_columns={**mapping, "behaviour": ["RowNumber"]})
    assert chosen.users.columns.behaviour == ("RowNumber",)
    assert not [w for w in chosen.warnings if "RowNumber" in w]


def test_columns_named_after_churn_are_neither_behaviours_nor_segments(tmp_path):
    """IBM's Telco export carries Churn Value (0/1), Churn Label (Yes/No), Churn Score (0–100,
    a model's output) and Churn Reason (only churners have one). Proposed as candidates or as
    segments they would predict churn by being it; only the flag is used, as the outcome."""
    rng = np.random.default_rng(8)
    n = 600
    churned = rng.random(n) < 0.3
    telco = pd.DataFrame(
        {
            "CustomerID": [f"{i:04d}-ABCD" for i in range(n)],
            "Tenure Months": rng.integers(1, 72, n),
            "Contract": rng.choice(["Month-to-month", "One year", "Two year"], n),
            "Monthly Charges": np.round(rng.uniform(20, 110, n), 2),
            "Support Calls": rng.poisson(2 + 2 * churned),
            "Churn Label": np.where(churned, "Yes", "No"),
            "Churn Value": churned.astype(int),
            "Churn Score": np.clip(np.round(60 * churned + rng.normal(30, 15, n)), 0, 100),
            "Churn Reason": np.where(churned, rng.choice(["Competitor", "Price"], n), None),
        }
    )
    path = tmp_path / "Telco_customer_churn.csv"
    telco.to_csv(path, index=False)
    loaded = load_inputs(users=str(path))
    cols = loaded.users.columns
    assert (cols.user, cols.duration, cols.churn) == ("CustomerID", "Tenure Months", "Churn Value")
    assert (cols.duration_unit, cols.revenue) == ("months", "Monthly Charges")
    assert cols.behaviour == ("Support Calls",)
    assert cols.segments == ("Contract",)
    assert [w for w in loaded.warnings if "Churn Score" in w] == [
        "Telco_customer_churn.csv: column 'Churn Score' is named after churn, the outcome, so it "
        "was left out: a churn score, label or probability predicts churn by being it. Choose it "
        "as a behaviour column to rank it anyway."
    ]
    chosen = load_inputs(users=str(path), user_columns={"behaviour": ["Churn Score"]})
    assert chosen.users.columns.behaviour == ("Churn Score",)


def _stripe_customers(n: int = 500, seed: int = 4) -> pd.DataFrame:
    """Customers as Stripe exports them: created and canceled_at in epoch seconds (canceled_at
    empty while active), and two behaviours."""
    rng = np.random.default_rng(seed)
    created = 1_690_000_000 + rng.integers(0, 200 * 86_400, n)
    seats = rng.integers(1, 20, n)
    ends = created + rng.exponential(90 * 86_400 * np.exp(0.08 * seats), n)
    as_of = 1_690_000_000 + 400 * 86_400
    return pd.DataFrame(
        {
            "customer": [f"cus_{i:05d}" for i in range(n)],
            "created": created,
            "canceled_at": pd.array(np.where(ends < as_of, ends.astype(np.int64), None), "Int64"),
            "seats": seats,
            "last_invoice_ms": (created + rng.integers(0, 30 * 86_400, n)) * 1000,
        }
    )


def test_a_stripe_export_is_read_with_its_epoch_times(tmp_path):
    path = tmp_path / "customers.csv"
    _stripe_customers().to_csv(path, index=False)
    loaded = load_inputs(users=str(path))
    cols = loaded.users.columns
    assert (cols.user, cols.signup, cols.cancel) == ("customer", "created", "canceled_at")
    assert cols.behaviour == ("seats",)  # the millisecond times are no behaviour
    assert [w for w in loaded.warnings if "last_invoice_ms" in w] == [
        "customers.csv: column 'last_invoice_ms' holds numbers that read as times (Unix times in "
        "milliseconds, 2023-07-26 to 2024-03-04), so it was left out. Map it as the signup, "
        "cancellation or last-active time if it is one."
    ]
    ymd = tmp_path / "members.csv"  # KKBox's members: registration_init_time as 20150101
    stripe = _stripe_customers()
    dates = pd.to_datetime(stripe["created"], unit="s").dt.strftime("%Y%m%d").astype(int)
    stripe.assign(registration_init_time=dates).to_csv(ymd, index=False)
    assert "registration_init_time" not in load_inputs(users=str(ymd)).users.columns.behaviour
    an = analyse(loaded, AnalysisSettings(window_days=0, n_bootstrap=0))
    assert an.ranking.candidates[0].key == "col:seats"
    assert an.ranking.candidates[0].direction == "more is better"


def test_a_cancellation_without_a_signup_says_which_half_is_missing(tmp_path, capsys):
    path = tmp_path / "customers.csv"
    _stripe_customers().rename(columns={"created": "opened"}).to_csv(path, index=False)
    assert main(["rank", "--users", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "column 'canceled_at' gives each user's cancellation time, but there is no signup" in err
    assert "--signup-col" in err
    loaded = load_inputs(users=str(path))
    with pytest.raises(InputError) as info:
        analyse(loaded, AnalysisSettings(window_days=0, n_bootstrap=0))
    assert "'Signup time' in the column mapping" in info.value.for_app()
    assert "--signup-col" not in info.value.for_app()


def test_times_in_milliseconds_and_yyyymmdd_are_read_and_said(tmp_path):
    """Epoch milliseconds were read as seconds (signups 50,000 years ahead, then an internal
    error); whole numbers like 20240108 were refused as not dates. Both are read, and said."""
    stripe = _stripe_customers()
    ms = stripe.assign(created=stripe["created"] * 1000, canceled_at=stripe["canceled_at"] * 1000)
    ymd = stripe.assign(
        created=pd.to_datetime(stripe["created"], unit="s").dt.strftime("%Y%m%d").astype(int)
    )
    days = np.floor(stripe["created"] / 86_400) * 86_400
    for name, table, signup_sec in (("ms.csv", ms, stripe["created"]), ("ymd.csv", ymd, days)):
        path = tmp_path / name
        table.to_csv(path, index=False)
        loaded = load_inputs(users=str(path))
        np.testing.assert_array_equal(loaded.users.frame["signup_sec"], signup_sec.astype(float))
        how = "Unix times in milliseconds" if name == "ms.csv" else "dates written as yyyymmdd"
        assert f"{name}: column 'created' holds {how}, read as 2023-07-" in " ".join(
            loaded.warnings
        )
        an = analyse(loaded, AnalysisSettings(window_days=0, n_bootstrap=0))
        assert an.ranking.candidates[0].key == "col:seats"
    small = stripe.assign(created=np.arange(len(stripe)) % 50)  # not times at all
    path = tmp_path / "small.csv"
    small.to_csv(path, index=False)
    with pytest.raises(InputError, match="column 'created' has 500 values that are not dates"):
        load_inputs(users=str(path))


def test_only_columns_of_this_century_s_times_read_as_times():
    from northstar_lab.data.proposals import time_span

    times = np.linspace(1.70e9, 1.71e9, 40)
    assert time_span(pd.Series(times)) == ("2023-11-14", "2024-03-09", "Unix times in seconds")
    assert time_span(pd.Series(times * 1000))[2] == "Unix times in milliseconds"
    ymd = pd.Series([20231114, 20240309] * 20)
    assert time_span(ymd) == ("2023-11-14", "2024-03-09", "dates written as yyyymmdd")
    for not_times in (np.linspace(10, 1e9, 40), np.full(40, 1.7e9), [*times, np.inf], times[:5],
                      [20231114, 20231341] * 20):  # fmt: skip
        assert time_span(pd.Series(not_times)) is None  # from 0, constant, inf, few, month 13
