"""Real-browser helpers: `streamlit run app.py` on a free port, Debian's Chromium via Playwright,
and the few gestures the tests repeat (wait for a run to end, pick an option, fill a number).

Shared by the browser tests and `bench/bench_app.py`; nothing here is a test.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_S = 90
VIEWPORT = {"width": 1440, "height": 1000}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerDied(RuntimeError):
    pass


@contextlib.contextmanager
def streamlit_server(folder: Path, env: dict | None = None) -> Iterator[tuple[str, Path]]:
    """`streamlit run app.py` (cwd = the repository root, so it imports this checkout) with a
    decision database and an uploads folder in `folder`; yields (base URL, log file) and
    stops the server (its own process only) afterwards."""
    port = free_port()
    log = folder / "streamlit.log"
    env = {
        **os.environ,
        "NORTHSTAR_DB": str(folder / "decisions.sqlite3"),
        "NORTHSTAR_UPLOADS": str(folder / "uploads"),
        **(env or {}),
    }
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(proc, port, log)
        yield f"http://127.0.0.1:{port}/", log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_for(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerDied(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise ServerDied(f"streamlit did not answer in {SERVER_START_S} s:\n{log.read_text()}")


def settle(page, timeout_s: float = 180) -> None:
    """Until the app is idle: no script run in progress (Streamlit's running indicator gone)."""
    from playwright.sync_api import expect

    page.wait_for_timeout(150)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout_s * 1000)


def choose(page, label: str, option: str, nth: int = 0) -> None:
    """Pick `option` in the selectbox or multiselect labelled `label`: typed, then clicked.

    On a loaded machine the page can still be laying out charts when the list opens, and the
    list is then drawn outside the viewport, where a click never lands (a CI run waited 30 s
    on it). The typed name leaves one option, focused, so Enter picks that very option.
    """
    from playwright.sync_api import Error as PlaywrightError

    box = page.get_by_label(label, exact=True).nth(nth)
    box.click()
    page.keyboard.type(option)
    wanted = page.get_by_role("option", name=option, exact=True).first
    try:
        wanted.click(timeout=5000)
    except PlaywrightError:
        if page.get_by_role("option").count() != 1:
            raise
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def fill_number(page, label: str, value: int | float, nth: int = 0) -> None:
    """Type a number into the number input labelled `label` and commit it (Enter)."""
    box = page.get_by_label(label, exact=True).nth(nth)
    box.fill(str(value))
    box.press("Enter")


def fill_text(page, label: str, value: str, nth: int = 0) -> None:
    """Type into the text input labelled `label` and commit it (Enter)."""
    box = page.get_by_label(label, exact=True).nth(nth)
    box.fill(value)
    box.press("Enter")


def no_exception(page, log: Path) -> None:
    """No uncaught exception box on the page (the server log is the message if there is)."""
    assert page.get_by_test_id("stException").count() == 0, log.read_text()[-4000:]


def load_note() -> str:
    """The machine's load, for printed timings ('load 3.2/2.9/2.5 on 2 CPUs')."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load {one:.1f}/{five:.1f}/{fifteen:.1f} on {os.cpu_count()} CPUs"
