"""Vendor exports: each fixture is written in the vendor's documented layout from the same events,
and the ranking read from it equals the ranking of those events given as a plain CSV.

The events are 400 Lumen Learn users from the bundled sample (whole seconds). Where a vendor
separates anonymous and known ids, every user's first two events are recorded before login
(anonymous id only), and 15 more users never log in: the CSV holds the first under their user id
and the others under their anonymous id, which is what identity resolution must reproduce.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from northstar_lab import cli
from northstar_lab.analysis import analyse
from northstar_lab.data import formats, sources
from northstar_lab.data.load import load_inputs
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = AnalysisSettings(n_bootstrap=0)
N_USERS = 400
N_ANONYMOUS_ONLY = 15


def comparable(ranking) -> dict:
    """The ranking without what legitimately differs between inputs (timings, fingerprint)."""
    d = ranking.to_dict()
    d.pop("timings")
    d["data"].pop("fingerprint")
    return d


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    """user_id, timestamp (whole seconds, UTC), event, value; plus `anonymous` (the anonymous
    id), `logged_in` (False for events before login and for users who never log in) and
    `expected` (the id a correct reader gives the event)."""
    e = pd.read_parquet(ROOT / "sample_data" / "events.parquet")
    ids = sorted(e["user_id"].unique())
    known, anonymous_only = ids[:N_USERS], ids[N_USERS : N_USERS + N_ANONYMOUS_ONLY]
    e = e[e["user_id"].isin(known + anonymous_only)].copy()
    e = e.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    e["timestamp"] = e["timestamp"].dt.floor("s")
    e["anonymous"] = "anon-" + e["user_id"]
    first_two = e.groupby("user_id").cumcount() < 2
    never = e["user_id"].isin(anonymous_only)
    e["logged_in"] = ~(first_two | never)
    e["expected"] = np.where(never, e["anonymous"], e["user_id"])
    return e


def plain_csv(events: pd.DataFrame, path: Path, *, event_names=None, values=True) -> Path:
    """The same events as the plain CSV a user would write (the expected ids)."""
    df = pd.DataFrame(
        {
            "user_id": events["expected"],
            "timestamp": events["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "event": events["event"].replace(event_names or {}),
        }
    )
    if values:
        df["value"] = events["value"]
    df.to_csv(path, index=False)
    return path


def epoch(ts: pd.Series, unit: str) -> np.ndarray:
    return ts.astype("datetime64[s]").astype("int64").to_numpy() * formats.PER_SECOND[unit]


def write_json_lines(records: pd.DataFrame, path: Path, compression: str | None = None) -> Path:
    """Newline-delimited JSON written by DuckDB from a frame (nested columns hold dicts)."""
    con = duckdb.connect()
    con.register("records", records)
    options = "FORMAT JSON" + (f", COMPRESSION {compression}" if compression else "")
    con.execute(f"COPY records TO '{path}' ({options})")
    con.close()
    return path


def ranked(source: str, **kw):
    return analyse(load_inputs(source, **kw), SETTINGS)


@pytest.fixture(scope="module")
def expected_ranking(events, tmp_path_factory):
    path = plain_csv(events, tmp_path_factory.mktemp("plain") / "events.csv")
    return comparable(ranked(str(path)).ranking)


# --- Amplitude ----------------------------------------------------------------------------------


def amplitude_zip(events: pd.DataFrame, folder: Path) -> Path:
    """The Export API's download: a zip holding <project>/<project>_<date>_<n>#0.json.gz files of
    JSON lines with Amplitude's keys; revenue as event_properties.$revenue."""
    e = events
    ids = e["user_id"].str.slice(1).astype(int) + 10_000_000
    props = [
        {"$revenue": float(v), "$price": float(v), "$quantity": 1} if pd.notna(v) else {"page": "x"}
        for v in e["value"]
    ]
    records = pd.DataFrame(
        {
            "$insert_id": [f"ins-{i}" for i in range(len(e))],
            "amplitude_id": ids.to_numpy(),
            "app": 187520,
            "device_id": e["anonymous"],
            "event_id": np.arange(len(e)),
            "event_properties": props,
            "event_time": e["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "event_type": e["event"],
            "server_upload_time": e["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "user_id": e["user_id"].where(e["logged_in"], None),
            "user_properties": [{"plan": "free"}] * len(e),
            "uuid": [f"uuid-{i}" for i in range(len(e))],
        }
    )
    parts = folder / "parts"
    parts.mkdir()
    half = len(records) // 2
    for i, chunk in enumerate((records.iloc[:half], records.iloc[half:])):
        write_json_lines(chunk, parts / f"187520_2025-01-0{i + 1}_5#0.json.gz", "GZIP")
    path = folder / "amplitude_export.zip"
    with zipfile.ZipFile(path, "w") as z:
        for f in sorted(parts.iterdir()):
            z.write(f, f"187520/{f.name}")
    return path


def test_amplitude_zip_ranks_like_the_plain_csv(events, expected_ranking, tmp_path):
    path = amplitude_zip(events, tmp_path)
    assert formats.recognised_format(str(path)).title == "Amplitude"
    loaded = load_inputs(str(path))
    assert loaded.event_format.name == "amplitude" and loaded.event_format.recognised
    assert comparable(analyse(loaded, SETTINGS).ranking) == expected_ranking
    n_anon = int((~events["logged_in"] & events["user_id"].ne(events["expected"])).sum())
    n_before_login = int((~events["logged_in"]).sum()) - n_anon
    identity = loaded.notes[2]
    assert f"{n_before_login:,} events without one are credited to the user_id" in identity
    assert f"the other {n_anon:,} events are users by their amplitude_id" in identity
    assert loaded.fingerprint["events"]["format"] == "amplitude"


def test_amplitude_unzipped_folder_reads_the_same(events, tmp_path):
    path = amplitude_zip(events, tmp_path)
    with zipfile.ZipFile(path) as z:
        z.extractall(tmp_path / "unzipped")
    a = load_inputs(str(path))
    b = load_inputs(str(tmp_path / "unzipped"))
    assert b.event_format.name == "amplitude"
    assert a.event_counts == b.event_counts
    assert a.check.n_rows == b.check.n_rows == len(events)


# --- Mixpanel -----------------------------------------------------------------------------------


def mixpanel_records(events: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Raw export lines: {"event", "properties": {time, distinct_id, $insert_id, $device_id,
    $user_id (once identified, Simplified ID Merge), revenue}}."""
    e = events
    times = epoch(e["timestamp"], unit)
    props = []
    for i, (t, logged, user, anon, v) in enumerate(
        zip(times, e["logged_in"], e["user_id"], e["anonymous"], e["value"], strict=True)
    ):
        p = {"time": int(t), "$insert_id": f"i{i:07d}", "$device_id": anon,
             "mp_processing_time_ms": int(t) + 5, "$lib_version": "2.47.0"}  # fmt: skip
        p["distinct_id"] = user if logged else f"$device:{anon}"
        if logged:
            p["$user_id"] = user
        if pd.notna(v):
            p["revenue"] = float(v)
        props.append(p)
    return pd.DataFrame({"event": e["event"], "properties": props})


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_mixpanel_export_ranks_like_the_plain_csv(events, expected_ranking, tmp_path, unit):
    records = mixpanel_records(events, unit)
    duplicated = pd.concat([records, records.iloc[::37]], ignore_index=True)  # resent events
    path = tmp_path / "mixpanel_export.json"
    with open(path, "w", encoding="utf-8") as f:  # the raw export's exact text: one object a line
        f.writelines(
            json.dumps(r, separators=(",", ":")) + "\n" for r in duplicated.to_dict("records")
        )
    loaded = load_inputs(str(path))
    report = loaded.event_format
    assert report.name == "mixpanel"
    assert report.duplicates_removed == len(records.iloc[::37])
    words = {"s": "seconds", "ms": "milliseconds"}[unit]
    assert f"Unix time in {words}" in report.time
    assert comparable(analyse(loaded, SETTINGS).ranking) == expected_ranking


# --- PostHog ------------------------------------------------------------------------------------


def test_posthog_csv_ranks_like_the_plain_csv(events, tmp_path):
    e = events
    props = [
        json.dumps({"revenue": v} if pd.notna(v) else {"$current_url": "/x"}) for v in e["value"]
    ]
    export = pd.DataFrame(
        {
            "uuid": [f"0190-{i:08d}" for i in range(len(e))],
            "event": e["event"],
            "properties": props,
            "timestamp": e["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "distinct_id": e["user_id"],
            "elements_chain": "",
        }
    )
    export.to_csv(tmp_path / "posthog.csv", index=False)
    plain = e.assign(expected=e["user_id"])
    expected = comparable(ranked(str(plain_csv(plain, tmp_path / "plain.csv"))).ranking)
    loaded = load_inputs(str(tmp_path / "posthog.csv"))
    assert loaded.event_format.name == "posthog"
    assert "no person_id" in loaded.event_format.identity
    assert comparable(analyse(loaded, SETTINGS).ranking) == expected


def test_posthog_parquet_person_id_joins_anonymous_events(events, tmp_path):
    e = events
    export = pd.DataFrame(
        {
            "uuid": [f"0190-{i:08d}" for i in range(len(e))],
            "event": e["event"],
            "properties": [json.dumps({"revenue": v} if pd.notna(v) else {}) for v in e["value"]],
            "distinct_id": np.where(e["logged_in"], e["user_id"], e["anonymous"]),
            "person_id": "person-" + e["expected"],
            "timestamp": e["timestamp"].dt.tz_localize("UTC"),
        }
    )
    export.to_parquet(tmp_path / "posthog.parquet", index=False)
    plain = e.assign(expected="person-" + e["expected"])
    expected = comparable(ranked(str(plain_csv(plain, tmp_path / "plain.csv"))).ranking)
    loaded = load_inputs(str(tmp_path / "posthog.parquet"))
    assert "person_id" in loaded.event_format.identity
    assert comparable(analyse(loaded, SETTINGS).ranking) == expected


# --- Segment / RudderStack ----------------------------------------------------------------------


def segment_tracks(events: pd.DataFrame) -> pd.DataFrame:
    """The warehouse `tracks` table: one row per track call; properties live in per-event
    tables, so there is no revenue here."""
    e = events
    ts = e["timestamp"].dt.tz_localize("UTC")
    return pd.DataFrame(
        {
            "id": [f"ajs-{i}" for i in range(len(e))],
            "anonymous_id": e["anonymous"],
            "user_id": e["user_id"].where(e["logged_in"], None),
            "event": e["event"],
            "event_text": e["event"].str.replace("_", " ").str.title(),
            "original_timestamp": ts,
            "timestamp": ts,
            "sent_at": ts,
            "received_at": ts + pd.Timedelta(seconds=1),
            "uuid_ts": ts + pd.Timedelta(seconds=2),
            "context_library_name": "analytics.js",
        }
    )


def test_segment_tracks_parquet_and_duckdb_table_rank_like_the_plain_csv(events, tmp_path):
    tracks = segment_tracks(events)
    tracks.to_parquet(tmp_path / "tracks.parquet", index=False)
    expected = comparable(ranked(str(plain_csv(events, tmp_path / "p.csv", values=False))).ranking)
    loaded = load_inputs(str(tmp_path / "tracks.parquet"))
    assert loaded.event_format.name == "segment"
    assert comparable(analyse(loaded, SETTINGS).ranking) == expected
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        f"CREATE TABLE tracks AS SELECT * FROM read_parquet('{tmp_path / 'tracks.parquet'}')"
    )
    con.close()
    from_db = load_inputs(f"duckdb:///{db}", events_table="tracks", event_format="segment")
    assert from_db.event_format.name == "segment" and not from_db.event_format.recognised
    assert from_db.event_counts == loaded.event_counts
    assert from_db.check.min_ts == loaded.check.min_ts


def test_segment_text_timestamps_honour_their_offset(tmp_path):
    tracks = pd.DataFrame(
        {
            "anonymous_id": ["a1", "a1"],
            "user_id": [None, "u1"],
            "event": ["Signed Up", "Lesson Completed"],
            "original_timestamp": ["2025-03-01T14:30:00.000+02:00", "2025-03-02T00:30:00+02:00"],
        }
    )
    tracks.to_csv(tmp_path / "tracks.csv", index=False)
    loaded = load_inputs(str(tmp_path / "tracks.csv"))
    assert loaded.event_format.name == "segment"
    assert loaded.check.min_ts == pd.Timestamp("2025-03-01 12:30:00", tz="UTC")
    assert loaded.check.max_ts == pd.Timestamp("2025-03-01 22:30:00", tz="UTC")
    users = loaded.events.select("user_id").distinct().to_pandas()["user_id"].tolist()
    assert users == ["u1"]


# --- GA4 ----------------------------------------------------------------------------------------


GA4_NAMES = {"payment": "purchase"}


def ga4_records(events: pd.DataFrame) -> pd.DataFrame:
    """events_YYYYMMDD rows: event_timestamp in µs, nested event_params (key + typed value),
    user_pseudo_id always, user_id once logged in, ecommerce.purchase_revenue on purchases."""
    e = events

    def param(key, **value):
        full = {"string_value": None, "int_value": None, "float_value": None, "double_value": None}
        return {"key": key, "value": {**full, **value}}

    params = [
        [param("ga_session_id", int_value=1700000000), param("value", double_value=float(v))]
        if pd.notna(v) else [param("page_location", string_value="https://lumen.example/")]
        for v in e["value"]
    ]  # fmt: skip
    ecommerce = [
        {"purchase_revenue": float(v), "purchase_revenue_in_usd": float(v)} if pd.notna(v) else None
        for v in e["value"]
    ]
    return pd.DataFrame(
        {
            "event_date": e["timestamp"].dt.strftime("%Y%m%d"),
            "event_timestamp": epoch(e["timestamp"], "us"),
            "event_name": e["event"].replace(GA4_NAMES),
            "event_params": params,
            "user_id": e["user_id"].where(e["logged_in"], None),
            "user_pseudo_id": e["anonymous"],
            "ecommerce": ecommerce,
            "platform": "WEB",
        }
    )


def test_ga4_parquet_ranks_like_the_plain_csv(events, tmp_path):
    ga4_records(events).to_parquet(tmp_path / "events_20250101.parquet", index=False)
    plain = plain_csv(events, tmp_path / "plain.csv", event_names=GA4_NAMES)
    expected = comparable(ranked(str(plain)).ranking)
    loaded = load_inputs(str(tmp_path / "events_20250101.parquet"))
    assert loaded.event_format.name == "ga4"
    assert "Unix time in microseconds" in loaded.event_format.time
    got = analyse(loaded, SETTINGS).ranking
    assert comparable(got) == expected
    assert got.data.fingerprint["events"]["format"] == "ga4"


def test_ga4_bigquery_json_export_reads_like_parquet(events, tmp_path):
    records = ga4_records(events.iloc[:3000])
    parquet = tmp_path / "ga4.parquet"
    records.to_parquet(parquet, index=False)
    as_json = records.assign(event_timestamp=records["event_timestamp"].astype(str))  # BigQuery
    path = write_json_lines(as_json, tmp_path / "ga4.json")  # writes INT64 as JSON strings
    a, b = load_inputs(str(parquet)), load_inputs(str(path))
    assert b.event_format.name == "ga4"
    cols = ["user_id", "event", "ts", "value"]
    got = b.events.to_pandas()[cols].sort_values(cols, ignore_index=True)
    want = a.events.to_pandas()[cols].sort_values(cols, ignore_index=True)
    pd.testing.assert_frame_equal(got, want)
    assert got["value"].notna().sum() == records["ecommerce"].notna().sum() > 0


# --- recognition, choice and the CLI ------------------------------------------------------------


def test_recognition_from_columns():
    assert formats.recognise(["user_id", "timestamp", "event", "value"]) is None
    assert formats.recognise(["event", "properties"]) == "mixpanel"
    assert formats.recognise(["event", "properties", "timestamp", "user_id"]) is None
    assert (
        formats.recognise(["uuid", "event", "properties", "timestamp", "distinct_id"]) == "posthog"
    )
    assert formats.recognise(["anonymous_id", "user_id", "event", "timestamp"]) == "segment"
    assert (
        formats.recognise(["event_date", "event_timestamp", "event_name", "user_pseudo_id"])
        == "ga4"
    )
    assert formats.recognise(["Event_Type", "Amplitude_Id", "event_time"]) == "amplitude"
    names = [f.name for f in formats.import_options()]
    assert names == ["amplitude", "mixpanel", "posthog", "segment", "ga4"]
    assert all(f.description for f in formats.import_options())


def test_a_column_mapping_refers_to_the_mapped_event_log(events, tmp_path):
    """The app's mapping step peeks at the columns, then passes them back as explicit names."""
    tracks = segment_tracks(events.iloc[:500])
    tracks.to_parquet(tmp_path / "tracks.parquet", index=False)
    peeked = sources.peek_columns(str(tmp_path / "tracks.parquet"))
    assert peeked == ["user_id", "timestamp", "event"]  # no amounts in a tracks table
    raw = sources.peek_columns(str(tmp_path / "tracks.parquet"), event_format="plain")
    assert "anonymous_id" in raw and "original_timestamp" in raw
    mapping = dict(zip(["user", "timestamp", "event"], peeked, strict=True))
    loaded = load_inputs(str(tmp_path / "tracks.parquet"), event_columns=mapping)
    assert loaded.event_format.name == "segment"
    assert loaded.check.n_rows == 500
    mixpanel = tmp_path / "mp.jsonl"
    write_json_lines(mixpanel_records(events.iloc[:50], "s"), mixpanel)
    assert sources.peek_columns(str(mixpanel)) == ["user_id", "timestamp", "event", "value"]


def test_plain_and_wrong_formats(events, tmp_path, capsys):
    tracks = segment_tracks(events.iloc[:500])
    tracks.to_parquet(tmp_path / "tracks.parquet", index=False)
    plain = load_inputs(str(tmp_path / "tracks.parquet"), event_format="plain",
                        event_columns={"user": "anonymous_id"})  # fmt: skip
    assert plain.event_format is None
    assert plain.check.n_rows == 500
    with pytest.raises(InputError, match="read as a Google Analytics 4 export, but column"):
        load_inputs(str(tmp_path / "tracks.parquet"), event_format="ga4")
    with pytest.raises(InputError, match="Unknown export format 'heap'"):
        load_inputs(str(tmp_path / "tracks.parquet"), event_format="heap")
    code = cli.main(["rank", "--events", str(tmp_path / "tracks.parquet"), "--format", "mixpanel"])
    assert code == 2
    assert (
        "read as a Mixpanel export, but column 'properties' is missing" in capsys.readouterr().err
    )


def test_cli_states_the_recognised_format(events, tmp_path, capsys):
    path = tmp_path / "mixpanel.json.gz"
    lines = "".join(json.dumps(r) + "\n" for r in mixpanel_records(events, "ms").to_dict("records"))
    path.write_bytes(gzip.compress(lines.encode()))
    out = tmp_path / "out.json"
    code = cli.main(["rank", "--events", str(path), "--bootstrap", "0", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 0
    assert "Mixpanel export recognised." in err
    assert "properties.time read as Unix time in milliseconds" in err
    fp = json.loads(out.read_text())["data"]["fingerprint"]["events"]
    assert fp["format"] == "mixpanel" and "Identity:" in fp["read_as"]
