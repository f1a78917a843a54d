"""North Star Lab: choose a North Star metric from evidence, not opinion.

The public API, for notebooks and scripts (the app and the CLI use the same functions)::

    import northstar_lab as ns

    data = ns.load_inputs("sample_data/events.parquet", "sample_data/users.csv")
    result = ns.analyse(data, ns.AnalysisSettings(window_days=14))
    print(result.ranking.leader.name)

Names are imported lazily, so `import northstar_lab` is cheap (lifelines and DuckDB load only
when a function that needs them is first used). These names are a contract: tests use them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: public name → module that defines it
_EXPORTS = {
    "AnalysisSettings": "northstar_lab.settings",
    "InputError": "northstar_lab.errors",
    "load_inputs": "northstar_lab.data.load",
    "LoadedData": "northstar_lab.data.load",
    "analyse": "northstar_lab.analysis",
    "Analysis": "northstar_lab.analysis",
    "CandidateResult": "northstar_lab.results",
    "RankingResult": "northstar_lab.results",
    "ThresholdFigures": "northstar_lab.results",
    "Decision": "northstar_lab.decisions.model",
    "MetricDefinition": "northstar_lab.decisions.model",
    "InputMetric": "northstar_lab.decisions.model",
    "RejectedAlternative": "northstar_lab.decisions.model",
    "SignOff": "northstar_lab.decisions.model",
    "Revalidation": "northstar_lab.decisions.model",
    "DecisionStore": "northstar_lab.decisions.store",
    "evidence_snapshot": "northstar_lab.decisions.workshop",
    "revalidate": "northstar_lab.decisions.revalidate",
    "rationale_html": "northstar_lab.report.html",
    "rationale_markdown": "northstar_lab.report.markdown",
    "generate_product": "northstar_lab.sample",
}

__all__ = [
    "Analysis",
    "AnalysisSettings",
    "CandidateResult",
    "Decision",
    "DecisionStore",
    "InputError",
    "InputMetric",
    "LoadedData",
    "MetricDefinition",
    "RankingResult",
    "RejectedAlternative",
    "Revalidation",
    "SignOff",
    "ThresholdFigures",
    "analyse",
    "evidence_snapshot",
    "generate_product",
    "load_inputs",
    "rationale_html",
    "rationale_markdown",
    "revalidate",
]


def __getattr__(name: str) -> Any:
    """PEP 562: import the defining module on first use of a public name."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'northstar_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # for type checkers and IDEs; at run time the names load lazily
    from .analysis import Analysis, analyse
    from .data.load import LoadedData, load_inputs
    from .decisions.model import (
        Decision,
        InputMetric,
        MetricDefinition,
        RejectedAlternative,
        Revalidation,
        SignOff,
    )
    from .decisions.revalidate import revalidate
    from .decisions.store import DecisionStore
    from .decisions.workshop import evidence_snapshot
    from .errors import InputError
    from .report.html import rationale_html
    from .report.markdown import rationale_markdown
    from .results import CandidateResult, RankingResult, ThresholdFigures
    from .sample import generate_product
    from .settings import AnalysisSettings
