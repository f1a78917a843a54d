"""The house rules a reader relies on: a pure library, small modules and functions, a public API.

These are checks of the code itself (they read the source), so a rule broken by a change fails
here with the place to look, instead of living on in review comments.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "northstar_lab"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

#: The public API for notebooks (README shows it); tests and users import these names.
PUBLIC_NAMES = [
    "AnalysisSettings",
    "Decision",
    "DecisionStore",
    "InputMetric",
    "MetricDefinition",
    "analyse",
    "evidence_snapshot",
    "load_inputs",
    "rationale_html",
    "rationale_markdown",
    "revalidate",
]


def library_files() -> list[Path]:
    return sorted(LIBRARY.rglob("*.py"))


def test_no_module_in_the_library_is_over_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in library_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"split these modules by concept: {long}"


def test_no_function_is_over_80_lines():
    files = [*library_files(), *sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py"]
    long = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert not long, f"break these into named steps: {long}"


def test_the_library_never_imports_streamlit():
    offenders = []
    for path in library_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "streamlit" or n.startswith("streamlit.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"the analysis core must stay pure: {offenders}"


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_public_names_import_from_the_package(name):
    import northstar_lab

    assert name in northstar_lab.__all__
    assert getattr(northstar_lab, name) is not None


def _heavy_modules_after(imports: str, heavy: tuple[str, ...]) -> list[str]:
    """Which of `heavy` a fresh interpreter has loaded after `import {imports}`."""
    code = f"import sys, {imports}; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return [m for m in out.stdout.strip().split(",") if m]


def test_importing_the_package_is_cheap():
    """`import northstar_lab` loads no heavy dependency: public names are imported lazily."""
    heavy = ("lifelines", "duckdb", "ibis", "altair", "streamlit")
    assert _heavy_modules_after("northstar_lab", heavy) == []


def test_the_analysis_and_the_cli_start_without_scipy_stats_or_lifelines():
    """Each costs ~0.6–1 s to import, at every CLI start and before the app's first chart;
    lifelines is imported only when an adjusted model is fitted (stats/dist.py, km_curve)."""
    imports = ("northstar_lab.analysis, northstar_lab.data.load, northstar_lab.cli, "
               "northstar_lab.stats.adjusted, northstar_lab.evidence.charts")  # fmt: skip
    assert _heavy_modules_after(imports, ("scipy.stats", "lifelines")) == []


def test_a_users_table_ranking_never_loads_the_engine(tmp_path):
    """A users table is read with pandas and ranked in NumPy: Ibis and DuckDB (~0.3 s of a CLI
    start) load only for an event log or a database source (`data.eventlog`, `sources`)."""
    users = tmp_path / "users.csv"
    rng = np.random.default_rng(0)
    n = 400
    pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in range(n)],
            "tenure_days": rng.integers(1, 300, n),
            "churned": rng.integers(0, 2, n),
            "sessions": rng.poisson(3, n),
            "projects": rng.poisson(1, n),
        }
    ).to_csv(users, index=False)
    code = (
        "import sys; from northstar_lab.cli import main; "
        f"code = main(['rank', '--users', {str(users)!r}, '--quiet', '--bootstrap', '20']); "
        "print('LOADED', ','.join(m for m in ('ibis', 'duckdb', 'sqlglot') if m in sys.modules)); "
        "sys.exit(code)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "sessions (users table)" in out.stdout, out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED", out.stdout


def test_every_library_module_imports():
    for path in library_files():
        rel = path.relative_to(ROOT).with_suffix("")
        if rel.name == "__main__":
            continue
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        importlib.import_module(".".join(parts))
