"""Glue between the pages and the library: session state, cached analysis, progress, errors.

Session state holds only what the user chose or typed (dataset choice, settings, rubric,
decision drafts). Analyses live in a process-wide cache keyed on the dataset choice and the
frozen settings, so changing a chart selection or a rubric score never re-runs them.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
from pathlib import Path

import streamlit as st

from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_data"
SAMPLE = {
    "kind": "sample",
    "label": "Bundled sample: Lumen Learn (education SaaS)",
    "events": str(SAMPLE_DIR / "events.parquet"),
    "users": str(SAMPLE_DIR / "users.csv"),
    "event_columns": {},
    "user_columns": {},
}
MAX_CACHED = 32  # slots: loaded data, analyses and adjusted views of recent choices


def dataset() -> dict | None:
    """The dataset the user chose (None until they pick one)."""
    return st.session_state.get("dataset")


def choose_dataset(choice: dict) -> None:
    """Remember a dataset choice; analyses are looked up by it, so nothing is recomputed."""
    st.session_state["dataset"] = choice
    st.session_state.pop("load_error", None)


def settings() -> AnalysisSettings:
    """Current analysis settings (defaults until the user changes them in the sidebar)."""
    raw = st.session_state.get("settings")
    return AnalysisSettings.from_dict(raw) if raw else AnalysisSettings()


def save_settings(s: AnalysisSettings) -> None:
    st.session_state["settings"] = s.to_dict()


def save_upload(uploaded) -> str:
    """Write an uploaded file to a content-addressed temp path DuckDB can read."""
    data = uploaded.getvalue()
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "northstar_uploads" / digest
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(uploaded.name).name
    if not path.exists():
        path.write_bytes(data)
    return str(path)


def _choice_key(choice: dict) -> str:
    """A dataset choice as canonical JSON: the cache key of its loaded data and analyses."""
    return json.dumps(choice, sort_keys=True, default=str)


@st.cache_resource(max_entries=MAX_CACHED, show_spinner=False)
def _slot(kind: str, *keys: str) -> dict:
    """A process-wide slot for one result (loaded data, an analysis), evicted least recently
    used. The page fills it outside the cached function, so progress can be drawn while it
    computes; the lock makes two sessions asking at once compute it once."""
    return {"lock": threading.Lock()}


def _cached(kind: str, keys: tuple[str, ...], compute):
    slot = _slot(kind, *keys)
    with slot["lock"]:
        if "value" not in slot:
            slot["value"] = compute()
    return slot["value"]


def _load(choice_key: str, progress=None):
    from northstar_lab.data.load import load_inputs

    choice = json.loads(choice_key)
    return load_inputs(
        choice.get("events"),
        choice.get("users"),
        events_table=choice.get("events_table"),
        users_table=choice.get("users_table"),
        event_columns=choice.get("event_columns") or None,
        user_columns=_user_columns(choice.get("user_columns")),
        events_label=choice.get("events_label"),
        users_label=choice.get("users_label"),
        progress=progress,
    )


def _loaded(choice_key: str, progress=None):
    """Validated inputs for a dataset choice, shared by every session of this process."""
    return _cached("loaded", (choice_key,), lambda: _load(choice_key, progress))


def _analysed(choice_key: str, settings_key: str, progress=None):
    """The analysis of a dataset choice with frozen settings (never mutated by a page)."""
    from northstar_lab.analysis import analyse

    def compute():
        s = AnalysisSettings.from_dict(json.loads(settings_key))
        return analyse(_loaded(choice_key, progress), s, progress)

    return _cached("analysis", (choice_key, settings_key), compute)


def _adjusted(choice_key: str, settings_key: str, key: str, covariates: tuple[str, ...]):
    from northstar_lab.stats.adjusted import adjusted_view

    def compute():
        result = _analysed(choice_key, settings_key)
        return adjusted_view(result, key, list(covariates), seed=result.settings.seed)

    return _cached("adjusted", (choice_key, settings_key, key, json.dumps(covariates)), compute)


def loaded_data(choice: dict, progress=None):
    """Validated inputs for a dataset choice (cached per process)."""
    return _loaded(_choice_key(choice), progress)


def _user_columns(cols: dict | None) -> dict | None:
    if not cols:
        return None
    out = dict(cols)
    for k in ("behaviour", "segments"):
        if k in out and out[k] is not None:
            out[k] = tuple(out[k])
    return out


def _analysis_keys(choice: dict, s: AnalysisSettings) -> tuple[str, str]:
    return _choice_key(choice), json.dumps(s.to_dict(), sort_keys=True)


def cached_analysis():
    """The current analysis if this session already ran it (no computing on other pages)."""
    choice = dataset()
    if choice is None:
        return None
    keys = _analysis_keys(choice, settings())
    if st.session_state.get("analysed") != list(keys):
        return None
    return _analysed(*keys)


def analysis(show_progress: bool = True):
    """The analysis for the current dataset and settings, computed once with visible progress.

    Returns None (after showing the error) when the data cannot be analysed.
    """
    choice = dataset()
    if choice is None:
        return None
    keys = _analysis_keys(choice, settings())
    if st.session_state.get("analysed") == list(keys):
        return _analysed(*keys)
    start = time.perf_counter()
    status = st.status("Running the analysis…", expanded=True) if show_progress else None
    bar = status.progress(0.0) if status else None
    step = status.empty() if status else None

    def progress(message: str, fraction: float) -> None:
        if bar is not None:
            bar.progress(min(max(fraction, 0.0), 1.0))
            step.text(f"Step: {message}")

    try:
        result = _analysed(*keys, progress)
    except InputError as exc:
        if status:
            status.update(label="The data could not be analysed", state="error", expanded=True)
        st.error(str(exc))
        st.session_state["load_error"] = str(exc)
        return None
    elapsed = time.perf_counter() - start
    st.session_state["analysed"] = list(keys)
    st.session_state["last_analysis_seconds"] = elapsed
    if status:
        status.update(label=f"Analysis finished in {elapsed:.1f} s", state="complete",
                      expanded=False)  # fmt: skip
    return result


def adjusted(result, key: str, covariates: tuple[str, ...]):
    """The adjusted view of one candidate of the current analysis (cached per process)."""
    keys = _analysis_keys(dataset(), result.settings)
    with st.spinner("Fitting the adjusted model…"):
        return _adjusted(*keys, key, tuple(covariates))


def store():
    """The decision store (path from NORTHSTAR_DB or the user data dir)."""
    from northstar_lab.decisions.store import DecisionStore

    return DecisionStore()


def need_analysis():
    """The analysis, or a prompt to load data first (and stop the page)."""
    if dataset() is None:
        st.info("No data loaded yet. Pick the bundled sample or upload your files first.")
        if st.button("Use the sample data", key="need_sample"):
            choose_dataset(SAMPLE)
            st.rerun()
        st.page_link("pages/data.py", label="Go to Data", icon=":material/folder_open:")
        st.stop()
    result = analysis()
    if result is None:
        st.page_link(
            "pages/data.py",
            label="Check the data and its column mapping",
            icon=":material/folder_open:",
        )
        st.stop()
    return result
