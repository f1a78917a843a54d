"""Input metrics: what each one is, how it is measured, and which ones a North Star gets offered.

An input is measured per user in the observation window [0, W) days since signup, the same window
as every candidate (METHODS §1.3, §9.1). It is written as a key:

- `count:EVENT` — events of that type in the window (modelled as log(1 + count));
- `days:EVENT` — days with that event in the window (log(1 + days));
- `reached:EVENT` — did it at least once in the window (0/1): "users reaching a step";
- `share:NUM/DEN` — NUM events ÷ DEN events in the window, e.g. start-to-complete
  (`share:lesson_completed/lesson_started`); users without a DEN event have no share;
- `baseline:active_days`, `baseline:total_events`, `baseline:distinct_events` — the baselines.

A bare event name means `count:EVENT`. The North Star itself is one of these measures too (a
candidate key; an "at least k" candidate is analysed through the count it thresholds), measured
both in the window and in the following H days.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..candidates import Kind
from ..decisions.model import INPUT_KINDS
from ..errors import InputError
from ..results import known_fields

COUNT, DAYS, REACHED, SHARE = "count", "days", "reached", "share"
ACTIVE_DAYS, TOTAL_EVENTS, DISTINCT_EVENTS = "active_days", "total_events", "distinct_events"
EVENT_MEASURES = (COUNT, DAYS, REACHED, SHARE)
BASELINES = (ACTIVE_DAYS, TOTAL_EVENTS, DISTINCT_EVENTS)
#: measures modelled as log(1 + value); the others (0/1, shares) as they are
LOG_MEASURES = (COUNT, DAYS, ACTIVE_DAYS, TOTAL_EVENTS, DISTINCT_EVENTS)
#: the kind an input gets until the team says otherwise (the seeds' breadth/depth/frequency/
#: efficiency: reaching a step is breadth, doing more of it depth, coming back frequency, a
#: conversion share efficiency)
DEFAULT_KIND = {
    COUNT: "depth",
    DAYS: "frequency",
    REACHED: "breadth",
    SHARE: "efficiency",
    ACTIVE_DAYS: "frequency",
    TOTAL_EVENTS: "depth",
    DISTINCT_EVENTS: "breadth",
}
_BASELINE_NAMES = {
    ACTIVE_DAYS: "Active days (any event)",
    TOTAL_EVENTS: "Events (all types)",
    DISTINCT_EVENTS: "Distinct event types used",
}


@dataclass(frozen=True)
class InputSpec:
    """One input metric (or the North Star as a measure): how it is measured and who owns it.

    target_low / target_high: the team's target range, in the measure's own units (per user in
    the window; a share between 0 and 1).
    """

    key: str
    measure: str
    event: str | None = None
    denominator: str | None = None
    name: str = ""
    kind: str = "depth"
    owner: str = ""
    definition: str = ""
    target_low: float | None = None
    target_high: float | None = None

    @property
    def events(self) -> tuple[str, ...]:
        """The event types this measure reads."""
        return tuple(e for e in (self.event, self.denominator) if e)

    @property
    def log_scale(self) -> bool:
        return self.measure in LOG_MEASURES

    @property
    def transform(self) -> str:
        return "log1p" if self.log_scale else "none"

    def modelled(self, values: np.ndarray) -> np.ndarray:
        """The variable the lead model sees: log(1 + x) for counts and days, else x."""
        x = np.asarray(values, dtype=float)
        return np.log1p(x) if self.log_scale else x

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> InputSpec:
        return cls(**known_fields(cls, d))


def measure_name(measure: str, event: str | None, denominator: str | None, w: int) -> str:
    """The measure in words, like a candidate's name: 'goal_set: count in first 14 days'."""
    if measure == COUNT:
        return f"{event}: count in first {w} days"
    if measure == DAYS:
        return f"{event}: active days in first {w} days"
    if measure == REACHED:
        return f"{event}: reached in first {w} days (share of users)"
    if measure == SHARE:
        return f"{event} per {denominator} in first {w} days"
    return f"{_BASELINE_NAMES[measure]} in first {w} days"


def _spec(measure, event, denominator, w: int, key: str) -> InputSpec:
    return InputSpec(
        key=key,
        measure=measure,
        event=event,
        denominator=denominator,
        name=measure_name(measure, event, denominator, w),
        kind=DEFAULT_KIND[measure],
    )


def parse_input(text: str, window_days: int, event_names) -> InputSpec:
    """An input from its key (see the module docstring); InputError names what is wrong."""
    raw = str(text).strip()
    known = set(event_names)
    if not raw:
        raise InputError("An input metric key is empty; write e.g. count:goal_set.")
    prefix, sep, rest = raw.partition(":")
    if not sep:
        prefix, rest = COUNT, raw
    prefix = prefix.strip().lower()
    rest = rest.strip()
    if prefix == Kind.BASELINE.prefix:
        if rest not in BASELINES:
            raise InputError(
                f"Input {raw!r}: unknown baseline {rest!r}; use one of "
                + ", ".join(f"baseline:{b}" for b in BASELINES)
                + "."
            )
        return _spec(rest, None, None, window_days, f"baseline:{rest}")
    if prefix not in EVENT_MEASURES:
        raise InputError(
            f"Input {raw!r}: unknown measure {prefix!r}. Write count:EVENT, days:EVENT, "
            "reached:EVENT, share:NUM/DEN or baseline:active_days (a bare event name means "
            "count:EVENT)."
        )
    num, den = rest, None
    if prefix == SHARE:
        num, _, den = rest.partition("/")
        num, den = num.strip(), den.strip()
        if not (num and den) or num == den:
            raise InputError(
                f"Input {raw!r}: a share needs two different events, e.g. "
                "share:lesson_completed/lesson_started."
            )
    missing = [e for e in (num, den) if e and e not in known]
    if missing:
        raise InputError(
            f"Input {raw!r}: event {', '.join(repr(m) for m in missing)} is not in the event "
            f"log's first-{window_days}-day counts. Event names present: "
            f"{', '.join(sorted(known)[:20])}."
        )
    key = f"{SHARE}:{num}/{den}" if prefix == SHARE else f"{prefix}:{num}"
    return _spec(prefix, num, den, window_days, key)


def north_star_spec(key: str, window_days: int, event_names) -> InputSpec:
    """The North Star as a measure, from its candidate key.

    'count:E' and 'days:E' as they are; 'atleast:count:E' through the count it thresholds (the
    lead model needs the amount, not the 0/1); the baselines as they are. A users-table column
    has no later value to measure, so it cannot be a North Star here.
    """
    k = str(key).strip()
    base = k.removeprefix(f"{Kind.AT_LEAST.prefix}:")
    if base.startswith(f"{Kind.COLUMN.prefix}:"):
        raise InputError(
            f"North Star {k!r} is a users-table column: its value after the window cannot be "
            "measured, so inputs cannot be checked against it. Choose a metric from the event log.",
            cli="Pass --north-star count:EVENT.",
            app="Choose a North Star measured from the event log.",
        )
    if base.startswith(f"{Kind.ACTIVE_DAYS.prefix}:"):
        base = f"{DAYS}:{base.split(':', 1)[1]}"
    if base.split(":", 1)[0] not in (COUNT, DAYS, Kind.BASELINE.prefix):
        if ":" not in base:
            base = f"{COUNT}:{base}"
        else:
            raise InputError(
                f"North Star {k!r}: use a count, active-days or baseline candidate key, "
                "e.g. count:lesson_completed."
            )
    return parse_input(base, window_days, event_names)


def candidate_inputs(north_star: InputSpec, event_names, window_days: int) -> list[InputSpec]:
    """Every early-behaviour candidate except the North Star: count and active days of each
    other event type, and the baselines other than the North Star's own measure.

    The North Star's own event is left out in every form (its active days are the North Star in
    other units); analysts can still add it, or any share or step, by key.
    """
    out = []
    for e in event_names:
        if e in north_star.events:
            continue
        out += [_spec(COUNT, e, None, window_days, f"count:{e}")]
        out += [_spec(DAYS, e, None, window_days, f"days:{e}")]
    for b in BASELINES:
        if b != north_star.measure:
            out.append(_spec(b, None, None, window_days, f"baseline:{b}"))
    return out


def with_details(spec: InputSpec, **details) -> InputSpec:
    """The spec with the team's kind, owner, definition or target range (None keeps the value)."""
    kw = {k: v for k, v in details.items() if v is not None}
    unknown = set(kw) - {"name", "kind", "owner", "definition", "target_low", "target_high"}
    if unknown:
        raise TypeError(f"unknown input details: {sorted(unknown)}")
    kind = kw.get("kind", spec.kind)
    if kind not in INPUT_KINDS:
        raise InputError(
            f"Input {spec.key!r}: kind must be one of {', '.join(INPUT_KINDS)}, got {kind!r}."
        )
    lo, hi = kw.get("target_low", spec.target_low), kw.get("target_high", spec.target_high)
    if lo is not None and hi is not None and float(lo) > float(hi):
        raise InputError(f"Input {spec.key!r}: target range {lo}–{hi} runs backwards.")
    return dataclasses.replace(spec, **kw)
