"""The chosen inputs, with their evidence, in a decision record (METHODS §9.6).

`input_metrics` turns the team's choice (keys, with kind, owner, definition and target range)
into `InputMetric`s carrying each input's evidence; `with_inputs` returns a copy of a decision
with them and the inputs analysis in its evidence snapshot — to record as a new decision, or as
an amendment of a recorded one (`DecisionStore.amend`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from ..decisions.model import Decision, InputMetric
from ..errors import InputError
from .result import InputsResult

DETAILS = ("kind", "owner", "definition", "target_low", "target_high")


def input_metrics(result: InputsResult, chosen: Iterable[str | Mapping]) -> list[InputMetric]:
    """InputMetrics for the chosen inputs (keys, or rows with 'key' and the team's details;
    a detail given here wins over the one the analysis ran with)."""
    out = []
    for item in chosen:
        row = {"key": item} if isinstance(item, str) else dict(item)
        key = str(row.get("key") or "")
        try:
            e = result.evidence(key)
        except KeyError as exc:
            raise InputError(
                f"Input {key!r} was not analysed for this North Star; analyse it first."
            ) from exc
        evidence = e.to_dict()
        for k in DETAILS:
            if row.get(k) not in (None, ""):
                evidence[k] = row[k]
        metric = InputMetric.from_dict(
            {**evidence, "name": row.get("name") or e.name, "key": e.key, "evidence": evidence}
        )
        out.append(metric)
    return out


def with_inputs(
    decision: Decision, result: InputsResult, chosen: Iterable[str | Mapping]
) -> Decision:
    """A copy of `decision` whose input metrics are the chosen ones with their evidence.

    The North Star analysed must be the decision's chosen metric. id, version and created_at
    are cleared, so the store assigns them (record or amend).
    """
    if result.north_star_key != decision.chosen_key:
        raise InputError(
            f"These inputs were analysed for {result.north_star_key!r}, but the decision chose "
            f"{decision.chosen_key!r}. Analyse the inputs of the chosen North Star."
        )
    metrics = input_metrics(result, chosen)
    new = copy.deepcopy(decision)
    new.input_metrics = metrics
    new.evidence.inputs = result.summary_dict([m.key for m in metrics])
    new.id = new.created_at = None
    new.version, new.supersedes = 1, None
    return new
