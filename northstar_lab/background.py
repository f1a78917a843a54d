"""Work done ahead of a person, in a separate low-priority process.

The app fits the Adjusted tab's views before anyone opens the tab (issue 12). Fitted in a
thread of the server, a lifelines fit holds the GIL for most of a second at a time: the
server's own thread, which sends a freshly drawn page to the browser, then waits for it, and
the first leaderboard reached the screen about 2 s later (measured with `bench_app`). In a
child process the fit does not take the GIL. It runs at a lower OS priority too, but on the
2-core test box that did not keep it from slowing the browser, so the app also waits until a
freshly drawn page has had time to reach the screen (`pages.shared.PAGE_DRAW_S`).

The child is `python -m northstar_lab.background`, started on first use, speaking pickled
messages over its stdin and stdout (not `multiprocessing`: under Streamlit, `__main__` is the
app's script, which a spawned child would run again). It keeps the last few analyses it was
sent, by key: an analysis is pickled once (the sample's is ~9 MB, 15 ms), then each job names
it. A failed fit comes back as its exception; a child that died is replaced once.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import subprocess
import sys
import threading

KEPT_ANALYSES = 2  # analyses the child holds (the current one and the one before)
CHILD_NICE = 10
_HEADER = struct.Struct("<Q")


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream):
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the other side closed the pipe")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the pipe")
    return pickle.loads(data)


class ChildDied(RuntimeError):
    """The background process exited or closed its pipe."""


class BackgroundFitter:
    """The app's one background process for adjusted views. Thread-safe (one job at a time);
    it keeps track of which analyses the child holds."""

    def __init__(self) -> None:
        self._child: subprocess.Popen | None = None
        self._held: list[str] = []  # analysis keys the child holds, oldest first
        self._lock = threading.Lock()

    def adjusted(self, analysis_key: str, analysis, key: str, covariates: tuple[str, ...]):
        """The same result as `adjusted_view(analysis, key, covariates, seed=…)`, computed in
        the child. A child that died is replaced once; a second failure is raised."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    return self._ask(analysis_key, analysis, key, covariates)
                except (ChildDied, OSError):
                    self.close()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def start(self) -> None:
        """Start the child now (its imports take a second or two of low-priority CPU), so
        the first job does not wait for them."""
        with self._lock:
            if self._child is None:
                self._start()

    def _ask(self, analysis_key, analysis, key, covariates):
        child = self._child or self._start()
        held = analysis_key in self._held
        job = (analysis_key, None if held else analysis, key, tuple(covariates),
               analysis.settings.seed)  # fmt: skip
        try:
            _send(child.stdin, job)
            ok, value = _receive(child.stdout)
        except (EOFError, BrokenPipeError) as exc:
            raise ChildDied(str(exc)) from exc
        if not held:
            self._held = [k for k in self._held if k != analysis_key] + [analysis_key]
            self._held = self._held[-KEPT_ANALYSES:]
        if not ok:
            raise value
        return value

    def _start(self) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._child = subprocess.Popen(
            [sys.executable, "-m", "northstar_lab.background"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._held = []
        return self._child

    def close(self) -> None:
        """Stop the child (it also exits by itself when the server's pipe closes)."""
        child, self._child, self._held = self._child, None, []
        if child is not None:
            child.kill()
            child.wait(timeout=10)


_SHARED: list[BackgroundFitter] = []
_SHARED_LOCK = threading.Lock()


def shared_fitter() -> BackgroundFitter:
    """The process's one fitter, so its child outlives any cache of the caller (clearing
    Streamlit's caches must not leave a second child, and its analyses, running)."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(BackgroundFitter())
        return _SHARED[0]


def _serve(stdin, stdout) -> None:
    """The child's loop: one job in, one (ok, result or exception) out, until stdin closes."""
    import northstar_lab.analysis  # noqa: F401 - what an analysis unpickles into, up front
    from northstar_lab.stats.adjusted import adjusted_view, warm_up

    warm_up()  # lifelines and its first fit, before any job waits for them

    analyses: dict[str, object] = {}
    while True:
        try:
            analysis_key, analysis, key, covariates, seed = _receive(stdin)
        except EOFError:
            return
        try:
            if analysis is not None:
                analyses.pop(analysis_key, None)
                analyses[analysis_key] = analysis
                while len(analyses) > KEPT_ANALYSES:
                    analyses.pop(next(iter(analyses)))
            reply = (True, adjusted_view(analyses[analysis_key], key, list(covariates), seed=seed))
        except Exception as exc:  # noqa: BLE001 - the server logs it and fits again when asked
            reply = (False, exc)
        _send(stdout, reply)


if __name__ == "__main__":
    with contextlib.suppress(AttributeError, OSError):  # elsewhere: correct, only less polite
        os.nice(CHILD_NICE)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed must not corrupt the replies
    _serve(sys.stdin.buffer, out)
