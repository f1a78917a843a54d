"""Small helpers shared by the benchmarks (not part of the library)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The checkout's library, not whichever copy is installed; bench_engines' parts import a snapshot
# of it through PYTHONPATH instead, which then comes first.
if str(ROOT) not in sys.path and not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(ROOT))


def git_commit() -> str | None:
    """The short commit the benchmark ran on, for its JSON record."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() or None
    except OSError:
        return None
