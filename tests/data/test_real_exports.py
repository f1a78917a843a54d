"""Event logs shaped like public datasets nobody here made: UCI Online Retail, RetailRocket,
Olist, Taobao user behaviour, camelCase trackers, and Sparkify (a music service's log whose
churn is the 'Cancellation Confirmation' page, and whose logged-out rows have userId '').

Each was refused or misread before: 'InvoiceDate', 'visitorid' and 'page' were not
recognised; the cancellation page was offered as a candidate that predicts churn by being it;
the logged-out rows were one more "user"; and churn could only come from 30 silent days, which
a two-month log cannot show."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from northstar_lab.analysis import analyse
from northstar_lab.data.columns import EventColumns, recognise_events
from northstar_lab.data.load import load_inputs
from northstar_lab.data.proposals import event_names_the_outcome
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings

DAY_MS = 86_400_000


@pytest.mark.parametrize(
    ("columns", "user", "timestamp", "event"),
    [
        (["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
          "CustomerID", "Country"], "CustomerID", "InvoiceDate", None),  # UCI Online Retail
        (["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
          "Customer ID", "Country"], "Customer ID", "InvoiceDate", None),  # Online Retail II
        (["timestamp", "visitorid", "event", "itemid", "transactionid"],
         "visitorid", "timestamp", "event"),  # RetailRocket
        (["order_id", "customer_id", "order_status", "order_purchase_timestamp",
          "order_approved_at"], "customer_id", "order_purchase_timestamp", None),  # Olist
        (["user_id", "item_id", "category_id", "behavior_type", "timestamp"],
         "user_id", "timestamp", "behavior_type"),  # Taobao user behaviour
        (["userId", "eventName", "eventTime", "sessionId"], "userId", "eventTime", "eventName"),
        (["ts", "userId", "page", "auth", "level", "registration"], "userId", "ts", "page"),
        (["playerId", "action", "loggedAt"], "playerId", "loggedAt", "action"),
    ],
)  # fmt: skip
def test_event_log_roles_are_recognised_in_real_exports(columns, user, timestamp, event):
    found = recognise_events(columns)
    assert (found["user"], found["timestamp"], found["event"]) == (user, timestamp, event)


def test_known_names_win_over_shapes_and_no_amount_is_guessed():
    found = recognise_events(["created_on", "event_date", "member_id", "type", "Quantity"])
    assert found["timestamp"] == "event_date"  # a known name, although 'created_on' comes first
    assert found["value"] is None  # 'Quantity' is no amount: a value is never guessed


def test_a_log_without_an_event_column_still_names_what_is_missing():
    cols = ["Invoice", "Quantity", "InvoiceDate", "Price", "Customer ID"]
    with pytest.raises(InputError) as err:
        EventColumns.recognise(cols, "online_retail_II.csv")
    assert "no event column found" in str(err.value)
    assert "no user column" not in str(err.value) and "no timestamp" not in str(err.value)


@pytest.mark.parametrize(
    ("event", "is_outcome"),
    [
        ("Cancellation Confirmation", True), ("Cancel", True), ("subscription_cancelled", True),
        ("unsubscribed", True), ("churn", True), ("app_remove", True),
        ("delete_account", True), ("AccountDeleted", True), ("uninstall", True),
        ("cancel_order", False), ("Cancel Booking", False), ("remove_from_cart", False),
        ("Submit Downgrade", False), ("login", False), ("order_cancelled", False),
    ],
)  # fmt: skip
def test_events_that_are_the_churn_itself(event, is_outcome):
    assert event_names_the_outcome(event) is is_outcome


def sparkify_log(path, n_users: int = 900, seed: int = 3) -> pd.DataFrame:
    """A Sparkify-shaped JSON lines log: ts in ms, userId as text ('' when logged out), the
    page as the event. 'Thumbs Up' in the first week lowers the hazard of cancelling; a user
    who cancels visits 'Cancel' then 'Cancellation Confirmation' and is never seen again."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2018-10-01").value // 10**6
    rows, truth = [], []
    for u in range(1, n_users + 1):
        t0 = start + int(rng.integers(0, 20)) * DAY_MS + int(rng.integers(0, DAY_MS))
        likes = int(rng.poisson(rng.choice([0.5, 6.0])))
        hazard = 0.02 * np.exp(-0.35 * np.log1p(likes))
        life = 1 + float(rng.exponential(1 / hazard))  # days until cancelling
        end = min(life, 60.0)
        times = t0 + np.sort(rng.uniform(0, end * DAY_MS, int(rng.integers(15, 40))))
        times = np.concatenate([[t0], times]).astype(np.int64)
        for t in times:
            rows.append({"ts": int(t), "userId": str(u), "page": "NextSong", "auth": "Logged In"})
        for t in t0 + np.sort(rng.uniform(0, 7 * DAY_MS, likes)).astype(np.int64):
            rows.append({"ts": int(t), "userId": str(u), "page": "Thumbs Up", "auth": "Logged In"})
        cancel = None
        if life < 60.0:
            cancel = int(times[-1]) + 60_000
            rows.append({"ts": cancel - 1000, "userId": str(u), "page": "Cancel",
                         "auth": "Logged In"})  # fmt: skip
            rows.append({"ts": cancel, "userId": str(u), "page": "Cancellation Confirmation",
                         "auth": "Cancelled"})  # fmt: skip
        truth.append({"user_id": str(u), "first": int(t0), "cancel": cancel})
    for i in range(150):  # logged-out visitors
        rows.append({"ts": start + i * 60_000, "userId": "", "page": "Home", "auth": "Logged Out"})
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    return pd.DataFrame(truth)


@pytest.fixture(scope="module")
def sparkify(tmp_path_factory):
    path = tmp_path_factory.mktemp("sparkify") / "sparkify.json"
    truth = sparkify_log(path)
    return path, truth, load_inputs(str(path), None)


SETTINGS = dict(window_days=7, horizon_days=21, n_bootstrap=0)


def test_churn_event_dates_churn_by_each_users_first_cancellation(sparkify):
    path, truth, loaded = sparkify
    a = analyse(loaded, AnalysisSettings(churn_event="Cancellation Confirmation", **SETTINGS))
    assert "the event 'Cancellation Confirmation'" in a.outcomes.churn_source
    frame = a.frame.set_index("user_id")
    t = truth.set_index("user_id").loc[frame.index]
    assert len(frame) == len(truth)  # the logged-out '' is nobody, not one more user
    a_end = frame["a_end_sec"].iloc[0]
    first_sec = np.floor(t["first"] / 1000)
    cancel_sec = np.floor(t["cancel"].astype(float) / 1000)
    churned = cancel_sec.notna() & (cancel_sec < a_end)
    want_d = np.where(churned, np.floor((cancel_sec - first_sec) / 86400), frame["a_days"])
    np.testing.assert_array_equal(a.outcomes.event_all, churned.to_numpy(float))
    np.testing.assert_array_equal(a.outcomes.duration_since_signup, want_d)
    # the planted driver leads; the cancellation pages are no candidates
    names = [c.name for c in a.ranking.candidates]
    assert names[0].startswith("Thumbs Up"), names[:3]
    assert not any(n.startswith(("Cancel", "Cancellation")) for n in names)
    assert any("'Cancel', 'Cancellation Confirmation' are the churn itself" in n
               for n in a.ranking.notes)  # fmt: skip
    assert a.ranking.gap_sensitivity == []  # churn is given, not derived from silence
    assert any("belong to nobody and were dropped" in w for w in a.ranking.warnings)


def test_without_a_churn_event_the_cancellation_is_still_no_candidate(sparkify):
    _, _, loaded = sparkify
    a = analyse(loaded, AnalysisSettings(inactivity_days=7, **SETTINGS))
    assert a.outcomes.churn_source.startswith("inactivity")
    assert not any(c.event in ("Cancel", "Cancellation Confirmation") for c in a.candidates)
    note = next(n for n in a.ranking.notes if "the churn itself" in n)
    assert "choose it as the churn event" in note


def test_a_cancellation_named_as_a_candidate_is_still_ranked(sparkify):
    _, _, loaded = sparkify
    s = AnalysisSettings(inactivity_days=7, candidates=("Cancel", "Thumbs Up"), **SETTINGS)
    a = analyse(loaded, s)
    assert {c.event for c in a.candidates if c.event} == {"Cancel", "Thumbs Up"}


def test_a_churn_event_that_does_not_occur_names_the_close_one(sparkify):
    _, _, loaded = sparkify
    s = AnalysisSettings(churn_event="Cancellation confirmation", **SETTINGS)
    with pytest.raises(InputError) as err:
        analyse(loaded, s)
    msg = str(err.value)
    assert "churn event 'Cancellation confirmation' does not occur" in msg
    assert "Did you mean 'Cancellation Confirmation'?" in msg


def test_settings_round_trip_keeps_the_churn_event():
    s = AnalysisSettings(churn_event="Cancellation Confirmation")
    assert AnalysisSettings.from_dict(s.to_dict()) == s
    assert AnalysisSettings.from_dict({"window_days": 14}).churn_event is None  # old records
    with pytest.raises(InputError):
        AnalysisSettings(churn_event="  ")


def test_a_log_too_short_for_the_inactivity_gap_says_so(tmp_path):
    """45 days of log, a 30-day gap: nobody can be seen leaving, and the message says why and
    what to change, with who was left out (it used to say only 'no churn events among 4')."""
    rng = np.random.default_rng(1)
    rows = [
        (f"u{u}", pd.Timestamp("2018-10-01") + pd.Timedelta(hours=float(h)), "NextSong")
        for u in range(400)
        for h in np.sort(rng.uniform(0, 45 * 24, 12))
    ]
    path = tmp_path / "short.csv"
    pd.DataFrame(rows, columns=["user_id", "timestamp", "event"]).to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        analyse(load_inputs(str(path), None), AnalysisSettings(n_bootstrap=0))
    msg = str(err.value)
    assert "(of 400 users:" in msg and "signed up too recently" in msg
    assert "the data is too short for a 30-day gap" in msg
    assert "a churn event if the log records cancellations" in msg


def online_retail_ii(path, n_users: int = 600, seed: int = 4) -> None:
    """A UCI Online Retail II-shaped line-item log: one row per invoice line, no event column,
    'InvoiceDate' as text, 'Customer ID' as a float with gaps, 'Price' per unit beside
    'Quantity'. Customers who order on more days in their first fortnight stay longer."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        start = pd.Timestamp("2010-01-04") + pd.Timedelta(days=int(rng.integers(0, 200)))
        keen = rng.random() < 0.5
        first_days = rng.choice(14, size=int(rng.integers(2, 6)) if keen else 1, replace=False)
        life = float(rng.exponential(200 if keen else 40))
        later = np.arange(14, int(min(life, 500)), 20)
        for d in sorted({0, *first_days.tolist(), *later.tolist()}):
            t = start + pd.Timedelta(days=int(d), hours=int(rng.integers(8, 18)))
            for _ in range(int(rng.integers(1, 4))):
                qty = int(rng.integers(1, 12))
                when = f"{t:%Y-%m-%d %H:%M:%S}"
                rows.append((f"{489434 + len(rows)}", "85048", "LED CANDLE", qty, when, 2.55,
                             float(12346 + u), "United Kingdom"))  # fmt: skip
    rows += [("489999", "22423", "CAKESTAND", 1, "2010-03-01 10:00:00", 12.75, np.nan,
              "United Kingdom")] * 40  # fmt: skip
    cols = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
            "Customer ID", "Country"]  # fmt: skip
    pd.DataFrame(rows, columns=cols).to_csv(path, index=False)


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    path = tmp_path_factory.mktemp("retail") / "online_retail_II.csv"
    online_retail_ii(path)
    return path


def test_a_log_without_an_event_column_is_refused_with_what_to_do_in_each_place(retail):
    with pytest.raises(InputError) as err:
        load_inputs(str(retail), None)
    assert "no event column found" in str(err.value)
    assert "--one-event purchase" in err.value.for_cli()
    app = err.value.for_app()
    assert "choose 'Every row is one event'" in app and "--" not in app


def test_every_row_is_one_event_ranks_an_order_log(retail):
    loaded = load_inputs(str(retail), None, event_columns={"one_event": "purchase"})
    assert loaded.event_counts == {"purchase": loaded.check.n_rows - 40}  # 40 rows: no customer
    unit = [w for w in loaded.warnings if "price per unit" in w]
    assert unit and "'Price' × 'Quantity'" in unit[0]
    a = analyse(loaded, AnalysisSettings(n_bootstrap=0))
    assert a.outcomes.revenue_source.startswith("sum of 'purchase' values")
    top = a.ranking.candidates[0]
    assert top.name.startswith("purchase") and "day" in top.name, top.name
    assert top.hazard_ratio < 1


def test_one_event_wins_over_a_column_named_like_an_event(tmp_path):
    path = tmp_path / "orders.csv"
    pd.DataFrame({"user_id": ["a", "b"] * 20, "timestamp": pd.date_range("2024-01-01", periods=40),
                  "type": ["x", "y"] * 20}).to_csv(path, index=False)  # fmt: skip
    cols = EventColumns.recognise(["user_id", "timestamp", "type"], "orders.csv", one_event="order")
    assert (cols.event, cols.one_event) == (None, "order")
    assert load_inputs(str(path), None, event_columns={"one_event": "order"}).event_counts == {
        "order": 40
    }


@pytest.mark.parametrize(
    ("text", "first_line_is_data"),
    [("    1 19970101   1    11.77\n    2 19970112   1    12.00\n", True),  # CDNow
     ("id   date      qty amount\n 1 19970101 1 11.77\n", False)],
)  # fmt: skip
def test_a_file_separated_by_spaces_says_so(tmp_path, text, first_line_is_data):
    path = tmp_path / "CDNOW_master.txt"
    path.write_text(text)
    for events, users in ((str(path), None), (None, str(path))):
        with pytest.raises(InputError) as err:
            load_inputs(events, users)
        msg = str(err.value)
        assert "read as a single column" in msg and "separated by spaces" in msg, msg
        assert ("first line holds values" in msg) is first_line_is_data


def _times_log(n_users: int = 150, seed: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2024-01-01", tz="UTC")
    rows = []
    for u in range(n_users):
        t0 = base + pd.Timedelta(days=int(rng.integers(0, 100)), minutes=int(rng.integers(0, 1440)))
        for k in range(int(rng.integers(2, 25))):
            rows.append((f"u{u}", t0 + pd.Timedelta(hours=float(rng.exponential(200)) * k),
                         str(rng.choice(["login", "view", "buy"]))))  # fmt: skip
    df = pd.DataFrame(rows, columns=["user_id", "t", "event"])
    df["t"] = df["t"].dt.floor("s")
    return df


TIME_TEXTS = {
    "offset": lambda t: t.dt.tz_convert("Europe/Berlin").map(lambda x: x.isoformat()),
    "offset_india": lambda t: t.dt.tz_convert("Asia/Kolkata").map(lambda x: x.isoformat()),
    "rfc2822": lambda t: t.dt.strftime("%a, %d %b %Y %H:%M:%S +0000"),
    "javascript": lambda t: t.dt.tz_convert("Europe/Berlin").map(
        lambda x: x.strftime("%a %b %d %Y %H:%M:%S GMT") + x.strftime("%z")
    ),
    "epoch_text": lambda t: (t.astype("int64") // 10**9).astype(str),
    "twitter": lambda t: t.dt.tz_convert("America/New_York").map(
        lambda x: x.strftime("%a %b %d %H:%M:%S %z %Y")
    ),
    "ctime": lambda t: t.dt.strftime("%a %b %d %H:%M:%S %Y"),
}


@pytest.mark.parametrize("how", sorted(TIME_TEXTS))
def test_text_times_with_offsets_or_as_digits_are_read_in_utc(tmp_path, how):
    """'…T01:00:00+01:00' is midnight UTC: the engine's plain cast dropped the offset, so a log
    written in Berlin time (two offsets a year) or India's (+05:30) was read hours off; mail
    and JavaScript dates, Twitter's (Foursquare check-ins), C's ctime, and Unix time kept as
    text, were refused."""
    df = _times_log()
    utc = df.assign(timestamp=df["t"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).drop(columns="t")
    other = df.assign(timestamp=TIME_TEXTS[how](df["t"])).drop(columns="t")
    utc.to_parquet(tmp_path / "utc.parquet")
    other.to_parquet(tmp_path / "other.parquet")
    want = load_inputs(str(tmp_path / "utc.parquet"), None)
    got = load_inputs(str(tmp_path / "other.parquet"), None)
    assert got.check.min_ts == want.check.min_ts == df["t"].min().tz_localize(None)
    assert got.check.max_ts == want.check.max_ts
    s = AnalysisSettings(n_bootstrap=0, inactivity_days=14, horizon_days=30)
    a, b = analyse(want, s).frame, analyse(got, s).frame
    pd.testing.assert_frame_equal(a.sort_values("user_id").reset_index(drop=True),
                                  b.sort_values("user_id").reset_index(drop=True))  # fmt: skip


def test_a_role_set_to_none_is_not_proposed_again():
    """The app's "— none —" for a Revenue or Value the names had proposed is a choice: it used
    to be dropped from the mapping, and recognition filled the role again."""
    from northstar_lab.data.proposals import recognise_user_columns

    df = pd.DataFrame({"customerID": ["a", "b", "c"], "tenure": [1, 2, 3],
                       "MonthlyCharges": [20.0, 30.0, 40.0],
                       "Churn": ["Yes", "No", "No"]})  # fmt: skip
    assert recognise_user_columns(df).revenue == "MonthlyCharges"  # camelCase is a known name
    cols = recognise_user_columns(df, revenue="")
    assert cols.revenue is None and "MonthlyCharges" in cols.behaviour
    assert recognise_user_columns(df, revenue="", behaviour=()).behaviour == ()
    events = EventColumns.recognise(["user_id", "ts", "event", "price"], "log.csv")
    assert events.value == "price"
    assert (
        EventColumns.recognise(["user_id", "ts", "event", "price"], "log.csv", value="").value
        is None
    )


def test_a_bank_churners_table_is_read_as_its_columns_say(tmp_path):
    """Kaggle's BankChurners: CLIENTNUM, Attrition_Flag ('Attrited Customer' / 'Existing
    Customer'), Months_on_book, and two Naive Bayes columns that are the label. Each was
    refused or missed before; the horizon (90 days) came before the first churn (13 months),
    so every group 'kept 100%' without a word."""
    rng = np.random.default_rng(5)
    n = 900
    trans = rng.integers(10, 140, n)
    attrited = rng.random(n) < 1 / (1 + np.exp(-(2.5 - 0.045 * trans)))
    months = np.where(attrited, rng.integers(13, 40, n), rng.integers(36, 57, n))
    df = pd.DataFrame({
        "CLIENTNUM": rng.permutation(np.arange(708082083, 708082083 + 10 * n, 10)),
        "Attrition_Flag": np.where(attrited, "Attrited Customer", "Existing Customer"),
        "Customer_Age": rng.integers(26, 73, n), "Months_on_book": months,
        "Total_Trans_Ct": trans, "Credit_Limit": rng.uniform(1438, 34516, n).round(1),
        "Naive_Bayes_Classifier_Attrition_Flag_Card_Category_1": np.where(attrited, 0.99, 1e-4),
    })  # fmt: skip
    path = tmp_path / "BankChurners.csv"
    df.to_csv(path, index=False)
    loaded = load_inputs(users=str(path))
    cols = loaded.users.columns
    assert (cols.user, cols.churn, cols.duration) == ("CLIENTNUM", "Attrition_Flag",
                                                      "Months_on_book")  # fmt: skip
    np.testing.assert_array_equal(loaded.users.frame["churn_flag"], attrited.astype(float))
    assert not any("Naive_Bayes" in c for c in cols.behaviour)
    ranking = analyse(loaded, AnalysisSettings(n_bootstrap=0)).ranking
    assert ranking.candidates[0].key == "col:Total_Trans_Ct"
    late = [w for w in ranking.warnings if w.startswith("No user churned within the horizon")]
    assert late and "Choose a longer horizon" in late[0]


def test_a_user_column_that_names_orders_is_said_so(tmp_path):
    """Olist's orders table: `customer_id` is new for every order (the person is
    `customer_unique_id`, in another table), so every "user" has one event. It used to end in
    "no user was followed for even a day … an export or load time"."""
    rng = np.random.default_rng(3)
    n = 2000
    t = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.uniform(0, 600, n), unit="D")
    pd.DataFrame({"order_id": [f"o{i:06x}" for i in range(n)],
                  "customer_id": [f"c{i:06x}" for i in range(n)],
                  "order_status": rng.choice(["delivered", "shipped"], n),
                  "order_purchase_timestamp": t.strftime("%Y-%m-%d %H:%M:%S")}).to_csv(
        tmp_path / "olist_orders_dataset.csv", index=False)  # fmt: skip
    loaded = load_inputs(str(tmp_path / "olist_orders_dataset.csv"),
                         event_columns={"event": "order_status"})  # fmt: skip
    with pytest.raises(InputError) as err:
        analyse(loaded, AnalysisSettings(n_bootstrap=0))
    assert "2,000 users for 2,000 events: nearly every user has a single event" in str(err.value)
    assert "names orders, sessions or visits" not in str(err.value)  # the words as written
    assert "seems to name orders, sessions or visits rather than people" in str(err.value)


def test_naive_text_times_keep_the_fast_cast_and_zone_names_mixed_with_naive_are_refused(
    tmp_path,
):
    """A column of naive (or UTC) text times is cast as before: the offset-aware cast costs
    ~7× more. DuckDB 1.5 reads a naive time that follows a named zone in that zone, so a
    column mixing the two stops with what to write instead of being read hours off."""
    import ibis

    from northstar_lab.data.events import says_other_zone, text_times

    assert not says_other_zone("2024-01-01 10:00:00") and not says_other_zone("2024-01-01")
    assert not says_other_zone("2024-01-01T10:00:00Z") and not says_other_zone("… 10:00 UTC")
    assert says_other_zone("2024-01-01T10:00:00+01:00") and says_other_zone("1:00:00 EST")
    naive = ibis.memtable({"t": ["2024-01-01 10:00:00", "2024-01-02 11:00:00"]})
    assert "TIMESTAMPTZ" not in ibis.to_sql(naive.select(t=text_times(naive, "t", "l")), "duckdb")
    path = tmp_path / "mixed.parquet"  # text, as a Parquet string column keeps it
    times = ["2024-01-01 10:00:00 America/New_York", "2024-01-01 11:00:00"] * 20
    pd.DataFrame({"user_id": "u1", "event": "login", "timestamp": times}).to_parquet(path)
    with pytest.raises(InputError) as err:
        load_inputs(str(path))
    assert "mixes times written with a zone's name" in str(err.value)


@pytest.mark.spark
def test_real_export_readings_are_the_same_on_spark(sparkify, tmp_path):
    """The churn event, the ids that name nobody, every-row-is-one-event and text times with
    offsets, on Spark (local[2]) as on DuckDB: the same per-user frame and outcomes."""
    pytest.importorskip("pyspark", reason="pip install -r requirements-spark.txt")
    log = pd.read_json(sparkify[0], lines=True)
    when = pd.to_datetime(log["ts"], unit="ms", utc=True).dt.tz_convert("Asia/Kolkata")
    log = log.assign(ts=when.map(lambda x: x.isoformat()))  # text with +05:30 offsets
    path = tmp_path / "sparkify.parquet"
    log[["ts", "userId", "page"]].to_parquet(path, index=False)
    s = AnalysisSettings(churn_event="Cancellation Confirmation", **SETTINGS)
    duck = analyse(load_inputs(str(path)), s)
    spark = analyse(load_inputs("spark://local[2]", events_table=str(path)), s)
    a = duck.frame.sort_values("user_id").reset_index(drop=True)
    b = spark.frame.sort_values("user_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert len(a) == len(sparkify[1])  # '' is nobody on both
    orders = tmp_path / "orders.parquet"
    log.rename(columns={"userId": "customer"})[["ts", "customer"]].to_parquet(orders)
    one = {"one_event": "play", "user": "customer", "timestamp": "ts"}
    d1 = load_inputs(str(orders), event_columns=one)
    s1 = load_inputs("spark://local[2]", events_table=str(orders), event_columns=one)
    assert d1.event_counts == s1.event_counts == {"play": len(log)}  # nobody: dropped later


def test_a_rolled_up_log_with_a_count_per_row_is_warned_about(tmp_path):
    path = tmp_path / "daily.csv"
    days = pd.date_range("2024-01-01", periods=30)
    rows = pd.DataFrame({"user_id": np.repeat([f"u{i}" for i in range(40)], 30),
                         "date": np.tile(days, 40), "event": "login",
                         "count": np.tile(np.arange(1, 31), 40)})  # fmt: skip
    rows.to_csv(path, index=False)
    warned = [w for w in load_inputs(str(path)).warnings if "number of events per row" in w]
    assert warned and "column 'count'" in warned[0]
    rows.drop(columns="count").to_csv(path, index=False)
    assert not any("number of events per row" in w for w in load_inputs(str(path)).warnings)


def test_durations_written_with_their_unit_are_read_as_such(tmp_path):
    """'19 months', '1 year 2 months', '3 wks': each value says its unit, so no unit is asked
    for and none is guessed (they used to be "not a non-negative number of months")."""
    from northstar_lab.durations import text_durations

    days, unit = text_durations(pd.Series(["12 months", "1 year 2 months", None, "3 mos"]))
    np.testing.assert_allclose(days.to_numpy(), [12 * 30.44, 365.25 + 2 * 30.44, np.nan,
                                                 3 * 30.44])  # fmt: skip
    assert unit == "days"  # months and years together: results speak in days
    assert text_durations(pd.Series(["12", "3 months"])) is None  # a bare number: no unit
    assert text_durations(pd.Series(["12 apples"])) is None
    rng = np.random.default_rng(1)
    months = rng.integers(1, 40, 300)
    df = pd.DataFrame({"customer_id": [f"C{i}" for i in range(300)],
                       "tenure": [f"{m} months" for m in months],
                       "churned": rng.choice(["Yes", "No"], 300),
                       "logins": rng.poisson(5, 300)})  # fmt: skip
    df.to_csv(tmp_path / "users.csv", index=False)
    loaded = load_inputs(users=str(tmp_path / "users.csv"))
    np.testing.assert_allclose(loaded.users.frame["duration_days"], months * 30.44)
    assert loaded.users.columns.duration_unit == "months"
    assert any("written with their unit" in n for n in loaded.users.notes)


def test_users_who_were_there_before_the_log_began_are_left_out(tmp_path):
    """A "last 120 days" export: 1,500 long-standing users are all first seen on its first
    day, beside ~10 real signups a day. Their first 14 days in the log are not their first
    days (left truncation); they used to be ranked as new users."""
    rng = np.random.default_rng(8)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for u in range(1500):  # veterans: active from the log's first hours
        for h in np.sort(rng.uniform(0, 120 * 24, 30)):
            rows.append((f"v{u}", start + pd.Timedelta(hours=float(h)), "login"))
        rows.append((f"v{u}", start + pd.Timedelta(minutes=int(rng.integers(0, 600))), "login"))
    for u in range(1000):  # new users, ~10 a day
        t0 = start + pd.Timedelta(days=1 + float(rng.uniform(0, 100)))
        for h in np.sort(rng.uniform(0, float(rng.exponential(40)) * 24, 10)):
            rows.append((f"n{u}", t0 + pd.Timedelta(hours=float(h)), "login"))
    path = tmp_path / "last_120_days.csv"
    pd.DataFrame(rows, columns=["user_id", "timestamp", "event"]).to_csv(path, index=False)
    a = analyse(load_inputs(str(path)), AnalysisSettings(n_bootstrap=0, inactivity_days=14,
                                                         horizon_days=30))  # fmt: skip
    assert not a.frame["user_id"].str.startswith("v").any()
    assert a.ranking.excluded["users_first_seen_when_the_log_began"] == 1500
    warned = [w for w in a.ranking.warnings if "before the log began" in w]
    assert warned and "load a users table with their signup dates" in warned[0]
