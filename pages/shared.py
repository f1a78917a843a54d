"""Glue between the pages and the library: session state, cached analysis, progress, errors.

Session state holds only what the user chose or typed (dataset choice, settings, rubric,
decision drafts). Analyses live in a process-wide cache keyed on the dataset choice and the
frozen settings, so changing a chart selection or a rubric score never re-runs them.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections import OrderedDict
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
MAX_CACHED = 4


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


@st.cache_resource(show_spinner=False)
def _cache() -> OrderedDict:
    return OrderedDict()


def _key(*parts) -> str:
    return json.dumps(parts, sort_keys=True, default=str)


def loaded_data(choice: dict, progress=None):
    """Validated inputs for a dataset choice (cached per process)."""
    from northstar_lab.data.load import load_inputs

    key = _key("loaded", choice)
    cache = _cache()
    if key not in cache:
        cache[key] = load_inputs(
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
        _trim(cache)
    cache.move_to_end(key)
    return cache[key]


def _user_columns(cols: dict | None) -> dict | None:
    if not cols:
        return None
    out = dict(cols)
    for k in ("behaviour", "segments"):
        if k in out and out[k] is not None:
            out[k] = tuple(out[k])
    return out


def _trim(cache: OrderedDict) -> None:
    while len(cache) > MAX_CACHED * 2:
        cache.popitem(last=False)


def cached_analysis(choice: dict | None = None, s: AnalysisSettings | None = None):
    """The analysis if it was already computed for this choice and settings, else None."""
    choice = choice or dataset()
    if choice is None:
        return None
    s = s or settings()
    return _cache().get(_key("analysis", choice, s.to_dict()))


def analysis(show_progress: bool = True):
    """The analysis for the current dataset and settings, computed once with visible progress.

    Returns None (after showing the error) when the data cannot be analysed.
    """
    from northstar_lab.analysis import analyse

    choice = dataset()
    if choice is None:
        return None
    s = settings()
    key = _key("analysis", choice, s.to_dict())
    cache = _cache()
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    start = time.perf_counter()
    status = st.status("Running the analysis…", expanded=True) if show_progress else None
    bar = status.progress(0.0) if status else None
    step = status.empty() if status else None

    def progress(message: str, fraction: float) -> None:
        if bar is not None:
            bar.progress(min(max(fraction, 0.0), 1.0))
            step.markdown(f"**Step:** {message}")

    try:
        loaded = loaded_data(choice, progress)
        result = analyse(loaded, s, progress)
    except InputError as exc:
        if status:
            status.update(label="The data could not be analysed", state="error", expanded=True)
        st.error(str(exc))
        st.session_state["load_error"] = str(exc)
        return None
    elapsed = time.perf_counter() - start
    st.session_state["last_analysis_seconds"] = elapsed
    if status:
        status.update(label=f"Analysis finished in {elapsed:.1f} s", state="complete",
                      expanded=False)  # fmt: skip
    cache[key] = result
    _trim(cache)
    return result


def adjusted(result, key: str, covariates: tuple[str, ...]):
    """The adjusted view of one candidate, cached per analysis, candidate and covariates."""
    from northstar_lab.stats.adjusted import adjusted_view

    cache_key = _key("adjusted", id(result), key, covariates)
    cache = _cache()
    if cache_key not in cache:
        with st.spinner(f"Fitting the adjusted model for {key}…"):
            seed = result.settings.seed
            cache[cache_key] = adjusted_view(result, key, list(covariates), seed=seed)
        _trim(cache)
    return cache[cache_key]


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


def flags(c) -> str:
    """Short warning words for a leaderboard row (legend under the table). Words, not emoji:
    they read on any projector and in any font."""
    words = []
    if c.noise_level:
        words.append("noise")
    if c.redundancy_group:
        words.append(f"dup {c.redundancy_group}")
    if not c.window_verifiable:
        words.append("window?")
    if c.tenure_rho is not None and abs(c.tenure_rho) >= 0.7:
        words.append("LIFETIME")
    if c.ph_test_p is not None and c.ph_test_p < 0.01:
        words.append("drift")
    return " · ".join(words)


FLAG_LEGEND = (
    "Flags — noise: not distinguishable from noise (q ≥ 0.05) · dup n: near-duplicate group n "
    "(|ρ| ≥ 0.9) · window?: users-table column, window not verifiable · LIFETIME: lifetime "
    "total in disguise, ranked last · drift: hazard ratio drifts over follow-up (read retention "
    "at the horizon and ΔRMST instead)"
)
