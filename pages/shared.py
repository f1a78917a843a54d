"""Glue between the pages and the library: the workshop's state, cached analyses, errors.

One source of truth: everything people chose or typed lives in one `WorkshopState`
(`state()`); everything computed is looked up from it. The analysis is keyed on the dataset
reference plus the frozen settings, and every derived table or chart on the analysis and a
candidate key (`derived`), in process-wide caches, so widget changes never recompute them and
a second participant's session reuses them.

A workshop session (`start_workshop`, `?workshop=ID` links) autosaves the state to the
decision database at the end of every run (`commit`) and brings it back after a reload or on
another laptop; participants join with the link and a name and save only their own scores.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import streamlit as st

from northstar_lab.decisions import uploads
from northstar_lab.decisions.session import WorkshopState, new_key
from northstar_lab.errors import InputError
from northstar_lab.settings import AnalysisSettings
from northstar_lab.text import md_lines, plain

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_data"
SAMPLE_LABEL = "Bundled sample: Lumen Learn (education SaaS)"
SAMPLE = {"kind": "sample", "label": SAMPLE_LABEL}
#: Where the bundled sample's files are (resolved when loading; never stored in a state).
SAMPLE_FILES = {"events": SAMPLE_DIR / "events.parquet", "users": SAMPLE_DIR / "users.csv"}
MAX_CACHED = 32  # loaded data, analyses and adjusted views of recent choices
MAX_DERIVED = 1024  # tables and charts derived from an analysis and a candidate key
AHEAD_MAX_USERS = 20_000  # adjusted views are fitted ahead up to this many users (~1 s each)
LIVE_EVERY_S = 2.0  # how often the facilitator's live view polls participants' scores
LOG = logging.getLogger("northstar_lab.app")


# ---- the state ---------------------------------------------------------------------------------


def state() -> WorkshopState:
    """This browser session's workshop state (created empty on first use)."""
    ws = st.session_state.get("ws")
    if ws is None:
        ws = st.session_state["ws"] = WorkshopState()
    return ws


def wkey(name: str, *parts: Any) -> str:
    """A widget key that changes whenever the state is replaced (a reload from the database, a
    refreshed draft) or a part it depends on changes, so a widget never shows a stale value."""
    gen = st.session_state.get("ws_gen", 0)
    return ":".join([name, str(gen), *(str(p) for p in parts)])


def replace_state(ws: WorkshopState) -> None:
    st.session_state["ws"] = ws
    st.session_state["ws_gen"] = st.session_state.get("ws_gen", 0) + 1


def dataset() -> dict | None:
    """The dataset reference the workshop works on (None until one is chosen)."""
    return state().dataset


def choose_dataset(ref: dict) -> None:
    """Work on this dataset from now on; uploads a workshop uses are kept (see `keep_uploads`)."""
    ws = state()
    ws.dataset = dict(ref)
    if workshop() is not None:
        keep_uploads(ws.dataset)


def settings() -> AnalysisSettings:
    """Current analysis settings (defaults until someone changes them)."""
    raw = state().settings
    return AnalysisSettings.from_dict(raw) if raw else AnalysisSettings()


def save_settings(s: AnalysisSettings) -> None:
    state().settings = s.to_dict()


# ---- workshop sessions ---------------------------------------------------------------------------


def workshops():
    """Where workshop sessions live: the decision database (`DecisionStore`'s workshop API)."""
    return store()


def workshop() -> dict | None:
    """The workshop session this browser is in: {"id", "version", "role", "name"} or None."""
    return st.session_state.get("workshop")


def start_workshop(title: str, facilitator: str) -> None:
    """Open a workshop session on the current state; this browser is its facilitator."""
    ws = state()
    ws.title = " ".join(plain(title).split()) or "North Star workshop"
    ws.facilitator_key = new_key()
    if ws.dataset:
        keep_uploads(ws.dataset)
    session = workshops().create_workshop(ws.title, facilitator, ws.to_dict())
    st.session_state["workshop"] = {
        "id": session.id, "version": session.version, "role": "facilitator",
        "name": " ".join(plain(facilitator).split()),
    }  # fmt: skip
    st.session_state["saved_state"] = json.dumps(ws.to_dict(), sort_keys=True)
    _set_link()


def join_as(name: str) -> None:
    """This browser is a participant of the linked workshop, scoring as `name`."""
    w = workshop()
    clean = " ".join(plain(name).split())
    if not clean:
        raise InputError("Give your name, so your scores are yours.")
    w["name"] = clean
    st.query_params["name"] = clean


def leave_workshop() -> None:
    for k in ("workshop", "saved_state"):
        st.session_state.pop(k, None)
    for k in ("workshop", "key", "name"):
        st.query_params.pop(k, None)


def link(participant: bool = True) -> dict:
    """Query parameters of this workshop's link: for participants, or the facilitator's own."""
    w = workshop()
    if w is None:
        return {}
    params = {"workshop": w["id"]}
    if not participant:
        params["key"] = state().facilitator_key
    return params


def _set_link() -> None:
    w = workshop()
    if w is None:
        return
    wanted = link(participant=w["role"] != "facilitator")
    if w["role"] == "participant" and w.get("name"):
        wanted["name"] = w["name"]
    for k, v in wanted.items():
        if st.query_params.get(k) != v:
            st.query_params[k] = v


#: Pages whose address is shared with people outside the workshop: no workshop link there.
SHARE_PAGES = ("rationale",)


def bootstrap(page=None) -> None:
    """Start of every run: open the workshop the link names (after a reload, or on another
    laptop), and keep the link in the address bar on every page but the share view."""
    wid = st.query_params.get("workshop")
    current = workshop()
    if wid and (current is None or current["id"] != wid):
        try:
            session = workshops().get_workshop(wid)
        except InputError as exc:
            st.error(exc.for_app())
            st.query_params.pop("workshop", None)
            return
        loaded = WorkshopState.from_dict(session.state)
        key = st.query_params.get("key")
        role = "facilitator" if key and key == loaded.facilitator_key else "participant"
        name = session.facilitator if role == "facilitator" else st.query_params.get("name", "")
        replace_state(loaded)
        st.session_state["workshop"] = {"id": session.id, "version": session.version,
                                        "role": role, "name": name}  # fmt: skip
        st.session_state["saved_state"] = json.dumps(loaded.to_dict(), sort_keys=True)
    if getattr(page, "url_path", "") in SHARE_PAGES:
        for k in ("workshop", "key", "name"):
            st.query_params.pop(k, None)
        return
    _set_link()


def is_participant() -> bool:
    w = workshop()
    return w is not None and w["role"] == "participant"


def commit() -> None:
    """Autosave: write the state to the workshop session when it changed (facilitator only).

    Called at the end of every run (app.py) and by pages wherever a run can end early
    (`stop`, `rerun`, a fragment's end): cheap when nothing changed.

    A save refused because someone else saved in between (another tab of the facilitator)
    reloads their version and says so; nothing is lost silently.
    """
    w = workshop()
    if w is None or w["role"] != "facilitator":
        return
    ws = state()
    text = json.dumps(ws.to_dict(), sort_keys=True)
    if text == st.session_state.get("saved_state"):
        return
    try:
        saved = workshops().save_workshop_state(
            w["id"], ws.to_dict(), base_version=w["version"], saved_by=w["name"]
        )
    except InputError as exc:
        current = getattr(exc, "current", None)  # someone saved in between
        if current is None:
            st.error(f"The workshop could not be saved: {exc.for_app()}")
            return
        replace_state(WorkshopState.from_dict(current.state))
        w["version"] = current.version
        st.session_state["saved_state"] = json.dumps(state().to_dict(), sort_keys=True)
        st.session_state["save_conflict"] = exc.for_app()
        return
    w["version"] = saved.version
    st.session_state["saved_state"] = json.dumps(WorkshopState.from_dict(saved.state).to_dict(),
                                                 sort_keys=True)  # fmt: skip


def stop() -> None:
    """`st.stop()`, after saving what this run changed."""
    commit()
    st.stop()


def rerun() -> None:
    """`st.rerun()`, after saving what this run changed."""
    commit()
    st.rerun()


def participant_scores() -> dict[str, dict]:
    """Every participant's saved scores in this workshop: name → {key: {criterion: score}}."""
    w = workshop()
    if w is None:
        return {}
    from northstar_lab.decisions.session import clean_scores

    return {p.name: clean_scores(p.scores) for p in workshops().participant_scores(w["id"])}


def save_my_scores(scores: dict) -> None:
    w = workshop()
    workshops().save_participant_scores(w["id"], w["name"], scores)


# ---- datasets and uploads --------------------------------------------------------------------


def save_upload(uploaded) -> dict:
    """Stream an uploaded file to disk (chunks, content-addressed); its reference for a dataset.

    The file is held for this browser session and deleted when the session ends, unless a
    workshop keeps it; temporary uploads older than a day are swept.
    """
    stored = uploads.save_stream(uploaded, uploaded.name, uploads.temp_root())
    _holds().hold(stored.sha256)
    _sweep_now_and_then()
    return stored.ref()


def _holds() -> uploads.UploadHolds:
    holds = st.session_state.get("upload_holds")
    if holds is None:
        holds = st.session_state["upload_holds"] = uploads.UploadHolds(uploads.temp_root())
    return holds


_last_sweep = [0.0]


def _sweep_now_and_then() -> None:
    if time.monotonic() - _last_sweep[0] > 3600:
        _last_sweep[0] = time.monotonic()
        uploads.sweep(uploads.temp_root(), keep_shas=uploads.held())


@st.cache_resource(max_entries=64, show_spinner=False)
def _peek(kind: str, key: str, label: str, table: str | None, event_format: str | None = None):
    from northstar_lab.data.load import read_users_file
    from northstar_lab.data.proposals import recognise_user_columns
    from northstar_lab.data.sources import peek_columns

    if kind == "users":
        df = read_users_file(key, label)[0]
        return list(df.columns), recognise_user_columns(df)
    return peek_columns(key, table, label=label, event_format=event_format)


def peek_columns(file: dict, label: str, event_format: str | None = None) -> list[str]:
    """Column names of an uploaded event log (read once per file content); of the event log a
    vendor export becomes, when it is one."""
    path = str(uploads.find(file, [kept_root(), uploads.temp_root()]))
    return _peek("events", path, label, None, event_format)


def peek_users(file: dict, label: str):
    """(column names, recognised roles) of an uploaded users table (read once per content)."""
    path = str(uploads.find(file, [kept_root(), uploads.temp_root()]))
    return _peek("users", path, label, None)


def peek_source(src: str, table: str | None, event_format: str | None = None) -> list[str]:
    """Column names of a source's events table (as an event log, for a vendor export)."""
    from northstar_lab.data.sources import peek_columns as peek

    return peek(src, table, event_format=event_format)


def kept_root() -> Path:
    return uploads.kept_root(getattr(store(), "path", None))


def keep_uploads(ref: dict) -> None:
    """Keep the files of an uploaded dataset beside the decision database (a workshop uses it)."""
    for role in ("events", "users"):
        file = ref.get(role)
        if ref.get("kind") == "upload" and isinstance(file, dict):
            try:
                path = uploads.find(file, [kept_root(), uploads.temp_root()])
            except InputError:
                continue
            uploads.keep(uploads.StoredUpload(file["sha256"], path.name, 0, path), kept_root())


def resolve(ref: dict) -> dict:
    """`load_inputs` arguments for a dataset reference (server paths are found here, never
    stored): the sample's files, uploads by content hash, or a source as typed."""
    kw = {
        "events_table": ref.get("events_table"),
        "users_table": ref.get("users_table"),
        "event_columns": ref.get("event_columns") or None,
        "user_columns": _user_columns(ref.get("user_columns")),
        "events_label": ref.get("events_label"),
        "users_label": ref.get("users_label"),
        "event_format": ref.get("event_format"),
        "recorded_columns": ref.get("recorded_columns"),
    }
    kind = ref.get("kind")
    if kind == "sample":
        return {**kw, "events": str(SAMPLE_FILES["events"]), "users": str(SAMPLE_FILES["users"])}
    roots = [kept_root(), uploads.temp_root()]
    for role in ("events", "users"):
        value = ref.get(role)
        if kind == "upload" and isinstance(value, dict):
            kw[role] = str(uploads.find(value, roots))
        else:
            kw[role] = value or None
    return kw


def _user_columns(cols: dict | None) -> dict | None:
    if not cols:
        return None
    out = dict(cols)
    for k in ("behaviour", "segments"):
        if k in out and out[k] is not None:
            out[k] = tuple(out[k])
    return out


def ref_key(ref: dict) -> str:
    """A dataset reference as canonical JSON: the cache key of its loaded data and analyses."""
    keep = {k: v for k, v in ref.items() if k != "label"}
    return json.dumps(keep, sort_keys=True, default=str)


# ---- process-wide caches ---------------------------------------------------------------------


@st.cache_resource(max_entries=MAX_CACHED, show_spinner=False)
def _slot(kind: str, *keys: str) -> dict:
    """A process-wide slot for one result (loaded data, an analysis), evicted least recently
    used. The page fills it outside the cached function, so progress can be drawn while it
    computes; the lock makes two sessions asking at once compute it once."""
    return {"lock": threading.Lock()}


@st.cache_resource(max_entries=MAX_DERIVED, show_spinner=False)
def _derived_slot(*keys: str) -> dict:
    return {"lock": threading.Lock()}


@st.cache_resource(show_spinner=False)
def warm_up_sample() -> dict:
    """Once per server process, analyse the bundled sample with the default settings in a
    background thread, so that the first "Try it with the sample data" finds the analysis
    ready or nearly so (issue 12 §9: the click answers in seconds, not the 5–10 s the analysis
    takes). It fills the very slots a page would, under their locks: a click during the
    warm-up waits for it instead of computing twice, and a failure leaves the slot empty for
    the page to compute (and explain) as usual."""
    keys = _analysis_keys(SAMPLE, AnalysisSettings())
    loaded_slot, analysis_slot = _slot("loaded", keys[0]), _slot("analysis", *keys)
    _fit_worker()  # started here, in a script run, for the fits queued after the analysis

    def run() -> None:
        from northstar_lab.analysis import analyse
        from northstar_lab.data.load import load_inputs

        try:
            loaded = _cached(loaded_slot, lambda: load_inputs(**resolve(SAMPLE)))
            result = _cached(analysis_slot, lambda: analyse(loaded, AnalysisSettings()))
            import northstar_lab.evidence.charts  # noqa: F401 - Altair's first import, too

            singles = [(c,) for c in covariate_options(result, loaded)]
            fit_ahead(keys, result.ranking.leader.key, [(), *singles])
        except Exception:  # noqa: BLE001 - the page computes it again and shows the error
            logging.getLogger(__name__).exception("Analysing the sample in advance failed")

    threading.Thread(target=run, name="northstar-warm-up", daemon=True).start()
    return {"started": time.time()}


def _cached(slot: dict, compute):
    with slot["lock"]:
        if "value" not in slot:
            slot["value"] = compute()
    return slot["value"]


def _loaded(key: str, progress=None):
    """Validated inputs for a dataset reference, shared by every session of this process."""
    from northstar_lab.data.load import load_inputs

    return _cached(_slot("loaded", key), lambda: load_inputs(**resolve(json.loads(key)),
                                                               progress=progress))  # fmt: skip


def _analysed(key: str, settings_key: str, progress=None):
    """The analysis of a dataset with frozen settings (never mutated by a page)."""
    from northstar_lab.analysis import analyse

    def compute():
        s = AnalysisSettings.from_dict(json.loads(settings_key))
        return analyse(_loaded(key, progress), s, progress)

    return _cached(_slot("analysis", key, settings_key), compute)


def loaded_data(ref: dict, progress=None):
    """Validated inputs for a dataset reference (cached per process)."""
    return _loaded(ref_key(ref), progress)


def event_names() -> list[str]:
    """The current event log's names when it is already loaded (nothing is loaded here)."""
    ref = dataset()
    loaded = _slot("loaded", ref_key(ref)).get("value") if ref is not None else None
    return list(loaded.event_counts) if loaded is not None and loaded.events is not None else []


def _analysis_keys(ref: dict, s: AnalysisSettings) -> tuple[str, str]:
    return ref_key(ref), json.dumps(s.to_dict(), sort_keys=True)


def current_keys() -> tuple[str, str] | None:
    ref = dataset()
    return None if ref is None else _analysis_keys(ref, settings())


def cached_analysis():
    """The current analysis if this session already ran it (no computing on other pages)."""
    keys = current_keys()
    if keys is None or st.session_state.get("analysed") != list(keys):
        return None
    return _analysed(*keys)


def analysis(show_progress: bool = True):
    """The analysis for the current dataset and settings, computed once with visible progress.

    Returns None (after showing the error) when the data cannot be analysed.
    """
    keys = current_keys()
    if keys is None:
        return None
    if st.session_state.get("analysed") == list(keys):
        return _analysed(*keys)
    if "value" in _slot("analysis", *keys):  # ready (the warm-up, another session): no
        show_progress = False  # progress box to draw, and the page switches at once
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
        st.error(exc.for_app())
        st.session_state["load_error"] = exc.for_app()
        return None
    elapsed = time.perf_counter() - start
    st.session_state["analysed"] = list(keys)
    st.session_state["last_analysis_seconds"] = elapsed
    if status:
        status.update(label=f"Analysis finished in {elapsed:.1f} s", state="complete",
                      expanded=False)  # fmt: skip
    return result


def _derived_slot_of(keys: tuple[str, str], kind: str, key: str | None, extra: tuple) -> dict:
    """The slot of one derived result: the analysis's keys (dataset and settings), the kind,
    the candidate key and every extra argument, so a result is never shown for other data,
    settings or options, whether a page or the background worker (`fit_ahead`) filled it."""
    return _derived_slot(*keys, kind, str(key), *(json.dumps(e, default=str) for e in extra))


def derived(kind: str, key: str | None, compute: Callable, *extra: Any):
    """`compute(analysis)` for the current analysis, cached per process on (analysis, kind,
    candidate key, extra): a table or chart is computed once, whoever asks and however often
    the page reruns."""
    keys = current_keys()
    slot = _derived_slot_of(keys, kind, key, extra)
    return _cached(slot, lambda: compute(_analysed(*keys)))


def _adjusted_view(an, key: str, covariates: tuple[str, ...]):
    """One candidate's adjusted view (a few lifelines fits, ~1 s on the sample).

    Fitted in the fit-ahead worker's child process when the analysis is small enough to send
    it (`AHEAD_MAX_USERS`): the child imported lifelines when it started and its fit takes no
    GIL from the server, where a first fit imported lifelines for ~0.7 s and then held the
    GIL (the Adjusted tab opened right after the leaderboard took 1.5 s, `bench_app`). Here
    when the child cannot (it died twice, or cannot be started); its fitting errors are the
    page's, shown as before."""
    from northstar_lab.background import ChildDied

    keys = current_keys()
    if keys is not None and an.ranking.n_users <= AHEAD_MAX_USERS:
        try:
            fitter = _fit_worker()["fitter"]
            return fitter.adjusted(json.dumps(list(keys)), an, key, tuple(covariates))
        except (ChildDied, OSError, pickle.PicklingError):
            LOG.info("The background fitter failed; fitting here", exc_info=True)
    from northstar_lab.stats.adjusted import adjusted_view

    return adjusted_view(an, key, list(covariates), seed=an.settings.seed)


def adjusted(result, key: str, covariates: tuple[str, ...]):
    """The adjusted view of one candidate of the current analysis (cached per process; often
    fitted already by `fit_ahead`)."""
    with st.spinner("Fitting the adjusted model…"):
        return derived(
            "adjusted",
            key,
            lambda an: _adjusted_view(an, key, covariates),
            sorted(covariates),
        )


def covariate_options(result, loaded=None) -> list[str]:
    """What the Adjusted tab offers to adjust for: the users table's segments, signup month."""
    from northstar_lab.stats.adjusted import available_covariates

    loaded = loaded if loaded is not None else loaded_data(dataset())
    segments = loaded.users.columns.segments if loaded.users is not None else ()
    return available_covariates(result.frame, segments)


def fit_adjusted_ahead(result, selected: list[str], chosen: list[str]) -> None:
    """Queue what the Adjusted tab shows next: each selected candidate with the covariates
    chosen now, and the first one with each covariate on its own (a person's first pick).
    Not above `AHEAD_MAX_USERS` users: a fit there takes many seconds, and one running while
    a page is drawn would slow it for that long."""
    if result.ranking.n_users > AHEAD_MAX_USERS:
        return
    options = covariate_options(result)
    now = tuple(c for c in chosen if c in options)
    for i, key in enumerate(selected):
        fit_ahead(current_keys(), key, [now, *([(c,) for c in options] if i == 0 else [])])


def fit_ahead(keys: tuple[str, str] | None, key: str, covariate_sets: list[tuple[str, ...]]):
    """Fit these adjusted views of candidate `key` in the background (one worker thread per
    process, fits queued in order): a first look at the Adjusted tab, or a first covariate,
    then answers at once instead of in 1–5 s (issue 12). The worker fills the very slots
    `adjusted` reads, under their locks, so a page asking meanwhile waits for the fit instead
    of fitting twice; a failure leaves the slot empty for the page to fit (and explain)."""
    if keys is None:
        return
    worker = _fit_worker()
    _start_child_soon(worker)
    for covs in dict.fromkeys(tuple(sorted(c)) for c in covariate_sets):
        job = (*keys, key, covs)
        with worker["lock"]:
            if job in worker["pending"] or "value" in _adjusted_slot(job):
                continue
            worker["pending"].add(job)
        worker["queue"].put(job)


def _adjusted_slot(job: tuple[str, str, str, tuple[str, ...]]) -> dict:
    """The slot `adjusted` reads for (dataset key, settings key, candidate key, covariates)."""
    ref, settings_key, key, covs = job
    return _derived_slot_of((ref, settings_key), "adjusted", key, (sorted(covs),))


@st.cache_resource(show_spinner=False)
def _fit_worker() -> dict:
    """The process's fit-ahead worker (see `fit_ahead`): a queue, the jobs queued and not done
    yet (`pending`; a view already fitted is never queued), the last jobs it fitted (`done`),
    the child process that fits (`fitter`) and a daemon thread that feeds it."""
    import queue
    from collections import deque

    from northstar_lab.background import shared_fitter

    worker = {"queue": queue.Queue(), "pending": set(), "lock": threading.Lock(),
              "fitter": shared_fitter(), "done": deque(maxlen=500)}  # fmt: skip

    def run() -> None:
        _lower_priority()
        while True:
            job = worker["queue"].get()
            _wait_for_quiet()
            if _fit_job(job, worker["fitter"]):
                worker["done"].append(job)
            with worker["lock"]:
                worker["pending"].discard(job)

    threading.Thread(target=run, name="northstar-fit-ahead", daemon=True).start()
    return worker


def _start_child_soon(worker: dict) -> None:
    """Start the fitting child `PAGE_DRAW_S` after the first fits are queued (an analysis has
    just finished), once per process. Its imports and lifelines' warm-up (~1.5 s of
    low-priority CPU) then come before the first job, not in it: the Adjusted tab opened 3 s
    after the first leaderboard waited 1.5 s for them. Not at once: started with the worker
    (when Home first runs) it slowed the first leaderboard by ~0.3 s (`bench_app`), and the
    browser is still drawing that leaderboard for a moment after the analysis."""
    with worker["lock"]:
        if worker.get("child_starting"):
            return
        worker["child_starting"] = True
    starter = threading.Timer(PAGE_DRAW_S, worker["fitter"].start)
    starter.daemon = True
    starter.start()


def _fit_job(job: tuple[str, str, str, tuple[str, ...]], fitter) -> bool:
    """One queued fit, into its slot, fitted in the low-priority child process
    (`northstar_lab.background`: a fit in a thread here held the GIL the server needs to send
    a drawn page). Nothing when the analysis is gone (evicted) or the fit fails: the page fits
    it again when asked, and shows the error. True when this job fitted the view."""
    ref, settings_key, key, covs = job
    analysis = _slot("analysis", ref, settings_key).get("value")
    if analysis is None:
        return False
    slot = _adjusted_slot(job)
    name = json.dumps([ref, settings_key])
    try:
        with slot["lock"]:
            if "value" in slot:
                return False
            slot["value"] = fitter.adjusted(name, analysis, key, covs)
    except Exception:  # noqa: BLE001 - the page fits it again and shows the error
        LOG.info("Fitting an adjusted view ahead failed", exc_info=True)
        return False
    return True


#: Page runs in progress in this process, and when the last one ended (`page_run`): any run,
#: and a whole page's run (app.py), after which the browser is still drawing that page.
_RUNS = {"active": 0, "ended": 0.0, "page_ended": 0.0, "lock": threading.Lock()}
QUIET_S = 0.3  # the fitting-ahead worker starts a fit after this long without a run …
PAGE_DRAW_S = 2.5  # … and this long after a whole page's run (a fit running while the
#: browser draws a new page delayed the first leaderboard by 1–2 s on a 2-core box: the
#: browser and the fit share the CPU, and a lower OS priority did not keep them apart)


@contextmanager
def page_run(whole_page: bool = False) -> Iterator[None]:
    """Mark a script or fragment run in progress, so work done ahead waits for it to end, and
    for the browser to draw a whole page (app.py wraps every run with `whole_page=True`;
    fragments use `runs_as_page`)."""
    with _RUNS["lock"]:
        _RUNS["active"] += 1
    try:
        yield
    finally:
        with _RUNS["lock"]:
            _RUNS["active"] -= 1
            _RUNS["ended"] = time.monotonic()
            if whole_page:
                _RUNS["page_ended"] = _RUNS["ended"]


def runs_as_page(fn: Callable) -> Callable:
    """A fragment's body as a `page_run` (a fragment rerun does not go through app.py)."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with page_run():
            return fn(*args, **kwargs)

    return wrapped


def _wait_for_quiet() -> None:
    """Until no run is in progress, none has ended for `QUIET_S` and no whole page for
    `PAGE_DRAW_S`."""
    while True:
        with _RUNS["lock"]:
            now = time.monotonic()
            idle = (
                _RUNS["active"] == 0
                and now - _RUNS["ended"] >= QUIET_S
                and now - _RUNS["page_ended"] >= PAGE_DRAW_S
            )
        if idle:
            return
        time.sleep(0.05)


def _lower_priority() -> None:
    """Let the calling thread yield the CPU to page runs and the browser (Linux: a thread's own
    nice value), so fitting ahead takes little from what a person waits for; elsewhere a no-op."""
    with suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


# ---- the decision store ------------------------------------------------------------------------


def store():
    """The decision store ($NORTHSTAR_DB or the user data dir), opened once per database.

    A database that cannot be opened raises InputError, in words without its path."""
    location = os.environ.get("NORTHSTAR_DB", "")
    try:
        return _store(location)
    except InputError as exc:
        LOG.warning("decision database %s: %s", location or "(default)", exc)
        raise InputError(
            "The decision database cannot be opened, so decisions and workshops cannot be "
            "saved or read right now.",
            app="Ask whoever runs this server to check it; the server log has the details.",
        ) from exc


def record(decision, idempotency_key: str):
    """Record a decision once per draft: the same draft sent twice (a double click, two tabs)
    is one decision, by its idempotency key in the store."""
    return store().record(decision, idempotency_key=idempotency_key)


@st.cache_resource(max_entries=8, show_spinner=False)
def _store(location: str):
    from northstar_lab.decisions.store import DecisionStore

    return DecisionStore(location or None)


# ---- containment and errors ----------------------------------------------------------------------


def show_error(exc: InputError) -> None:
    """An input problem as people read it: the app's hint, names shown as typed (no Markdown),
    and no server path (the decision database's location is named, not shown)."""
    st.error(md_lines(without_server_paths(exc.for_app())))


def without_server_paths(message: str) -> str:
    """`message` with the decision database's and the uploads' locations in words."""
    places = []
    try:
        db = store()
        places += [(str(db.path), "the decision database")] if db.path else []
        places += [(str(db.location), "the decision database")]
    except InputError:
        places += [(os.environ.get("NORTHSTAR_DB", ""), "the decision database")]
    places += [(str(kept_root_quiet()), "the workshop uploads folder"),
               (str(uploads.temp_root()), "the uploads folder")]  # fmt: skip
    for where, words in sorted(places, key=lambda p: -len(p[0])):
        if where and len(where) > 3:
            message = message.replace(where, words)
    return message


def kept_root_quiet() -> Path | None:
    try:
        return kept_root()
    except InputError:
        return None


@contextmanager
def contained(what: str) -> Iterator[None]:
    """Run one tab or chart on its own: what cannot be computed for these data says why in a
    sentence (the library's words), anything unexpected is logged with its traceback and named
    in a sentence, and the rest of the page renders either way."""
    try:
        yield
    except InputError as exc:
        st.info(exc.for_app())
    except Exception as exc:  # a chart that fails must not take the page with it
        LOG.exception("%s failed", what)
        st.warning(
            f"{what} could not be drawn for these data ({type(exc).__name__}). The rest of the "
            "page is not affected; the server log has the details."
        )


def need_analysis():
    """The analysis, or a prompt to load data first (and stop the page)."""
    if dataset() is None:
        st.info("No data loaded yet. Pick the bundled sample or upload your files first.")
        if st.button("Use the sample data", key="need_sample"):
            choose_dataset(SAMPLE)
            rerun()
        st.page_link("pages/data.py", label="Go to Data", icon=":material/folder_open:")
        st.stop()
    try:
        result = analysis()
    except InputError as exc:  # e.g. an uploaded file no longer on the server
        st.error(exc.for_app())
        result = None
    if result is None:
        st.page_link(
            "pages/data.py",
            label="Check the data and its column mapping",
            icon=":material/folder_open:",
        )
        st.stop()
    return result
