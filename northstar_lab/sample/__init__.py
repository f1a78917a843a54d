"""Lumen Learn: a deterministic sample product with a planted North Star story.

Lumen Learn is a fictional education SaaS. The story a workshop demo tells:

- **lessons completed in the first 14 days** (`lesson_completed`) drive retention and revenue: the
  hazard of churn after day 14 is `exp(LESSON_COEF · log1p(lessons in [0, 14)))` times a Weibull
  baseline, and free users who complete more lessons upgrade more often;
- **logins** climb over calendar time (a notification campaign adds login-only visits) but carry no
  effect once lessons are accounted for;
- `invite_sent` has a weak real effect; `quiz_taken`, `note_created`, `video_watched` and
  `certificate_downloaded` only ride along with lessons or engagement; `course_browsed`,
  `settings_changed` and the optional `noise_XX` events are pure noise;
- the users table's `total_logins` is a lifetime total, so it "predicts" tenure by construction;
- input metrics under the North Star (`story.py`): setting a weekly study goal (`goal_set`) in the
  first 14 days drives lessons completed later; `streak_viewed` only rides along with lessons; and
  eight past onboarding experiments (`assignments`) moved the two by different amounts.

The simulation is in `simulate.py`, its constants and planted coefficients in `spec.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .simulate import events_frame, simulate_block
from .spec import (
    GOAL_LESSONS_PER_DAY,
    INVITE_COEF,
    LESSON_COEF,
    PAST_EXPERIMENTS,
    PRODUCT,
    WEIBULL_SCALE_DAYS,
    WEIBULL_SHAPE,
    WINDOW_DAYS,
    Block,
    SampleData,
    Spec,
    make_spec,
)


def generate_product(
    n_users: int = 8000,
    seed: int = 7,
    *,
    start: str = "2025-01-01",
    signup_days: int = 365,
    as_of: str = "2026-03-31",
    null: bool = False,
    n_noise_events: int = 0,
) -> SampleData:
    """Lumen Learn's events, users, users_summary and the planted truth, deterministic in the args.

    Signups run over `signup_days` from `start`; `as_of` is the end of data (no event after it).
    `null=True` keeps the shapes but makes churn and revenue independent of window behaviour.
    `n_noise_events` adds event types noise_01… with no effect on anything.
    """
    spec = make_spec(n_users, seed, start, signup_days, as_of, null, n_noise_events)
    blocks = [simulate_block(spec, b) for b in range(spec.n_blocks)]
    events = events_frame(spec, blocks, 0, n_users)
    users = pd.concat([bl.users for bl in blocks], ignore_index=True)
    summary = pd.concat([bl.summary for bl in blocks], ignore_index=True)
    per_user = pd.concat([bl.truth for bl in blocks], ignore_index=True)
    assignments = pd.concat([bl.assignments for bl in blocks], ignore_index=True)
    assignments = assignments.sort_values(["assigned_at", "experiment"], kind="stable")
    return SampleData(
        events, users, summary, _truth(spec, per_user), assignments.reset_index(drop=True)
    )


def _truth(spec: Spec, per_user: pd.DataFrame) -> dict:
    """The planted story, with the driver's SD and HR per SD on the landmark population."""
    as_of = pd.Timestamp(spec.as_of_s, unit="s")
    w = pd.Timedelta(days=WINDOW_DAYS)
    landmark = (per_user["churn_at"] >= per_user["signup_at"] + w) & (
        per_user["signup_at"] + w <= as_of
    )
    sd = float(np.log1p(per_user.loc[landmark, "lessons_first_14d"]).std())
    coef = 0.0 if spec.null else LESSON_COEF
    sd_inv = float(np.log1p(per_user.loc[landmark, "invites_first_14d"]).std())
    inv = 0.0 if spec.null else INVITE_COEF
    return {
        "product": PRODUCT,
        "null": spec.null,
        "seed": spec.seed,
        "n_users": spec.n_users,
        "start": pd.Timestamp(spec.start_s, unit="s"),
        "as_of": as_of,
        "window_days": WINDOW_DAYS,
        "driver_event": "lesson_completed",
        "transform": "log1p",
        "coef_per_unit": coef,
        "hr_per_unit": float(np.exp(coef)),
        "sd": sd,
        "hr_per_sd": float(np.exp(coef * sd)),
        "weak_event": "invite_sent",
        "weak_coef_per_unit": inv,
        "weak_hr_per_sd": float(np.exp(inv * sd_inv)),
        "no_effect_events": [
            "login",
            "lesson_started",
            "quiz_taken",
            "video_watched",
            "course_browsed",
            "note_created",
            "certificate_downloaded",
            "settings_changed",
        ]
        + [f"noise_{k + 1:02d}" for k in range(spec.n_noise_events)],
        "pure_noise_events": ["course_browsed", "settings_changed"]
        + [f"noise_{k + 1:02d}" for k in range(spec.n_noise_events)],
        "campaign_event": "login",
        "trap_column": "total_logins",
        "input_driver_event": "goal_set",
        "input_rider_event": "streak_viewed",
        "goal_lessons_per_day": 0.0 if spec.null else GOAL_LESSONS_PER_DAY,
        "experiments": [dataclasses.asdict(e) for e in PAST_EXPERIMENTS],
        "revenue_event": "payment",
        "baseline_hazard": {
            "distribution": "weibull",
            "shape": WEIBULL_SHAPE,
            "scale_days": WEIBULL_SCALE_DAYS,
        },
        "pre_window_churn_share": float((per_user["churn_at"] < per_user["signup_at"] + w).mean()),
        "max_silent_days_while_active": 29,  # strictly fewer: a 30-day gap rule is exact
        "users": per_user,
    }


def iter_event_chunks(
    n_users: int, seed: int, chunk_users: int = 200_000, **kw
) -> Iterator[pd.DataFrame]:
    """The events of `generate_product(n_users, seed, **kw)`, users [0, c), [c, 2c), … per chunk.

    Each chunk holds every event of its users (disjoint across chunks), sorted by time; memory is
    bounded by a chunk plus one block of `BLOCK_USERS` users. Concatenated and sorted by timestamp
    they equal generate_product's events.
    """
    if chunk_users < 1:
        raise ValueError(f"chunk_users must be ≥ 1, got {chunk_users}")
    spec = make_spec(
        n_users,
        seed,
        kw.pop("start", "2025-01-01"),
        kw.pop("signup_days", 365),
        kw.pop("as_of", "2026-03-31"),
        kw.pop("null", False),
        kw.pop("n_noise_events", 0),
    )
    if kw:
        raise TypeError(f"unexpected arguments: {sorted(kw)}")
    carry: dict[int, Block] = {}  # a block that straddles two chunks
    for lo in range(0, n_users, chunk_users):
        hi = min(lo + chunk_users, n_users)
        per = spec.block_users
        wanted = range(lo // per, (hi - 1) // per + 1)
        blocks = [carry[b] if b in carry else simulate_block(spec, b) for b in wanted]
        carry = {wanted[-1]: blocks[-1]} if (wanted[-1] + 1) * per > hi else {}
        frame = events_frame(spec, blocks, lo, hi)
        del blocks
        yield frame


def write_sample(directory, n_users: int = 8000, seed: int = 7) -> dict[str, Path]:
    """Write events.parquet (zstd, dictionary-encoded), users.csv, users_summary.csv and
    assignments.csv (past experiments)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    data = generate_product(n_users, seed)
    paths = {
        "events": out / "events.parquet",
        "users": out / "users.csv",
        "users_summary": out / "users_summary.csv",
        "assignments": out / "assignments.csv",
    }
    # Microsecond timestamps: Spark cannot read Parquet's nanosecond TIMESTAMP type.
    data.events.to_parquet(
        paths["events"],
        index=False,
        compression="zstd",
        use_dictionary=["user_id", "event"],
        coerce_timestamps="us",
    )
    data.users.to_csv(paths["users"], index=False, date_format="%Y-%m-%d %H:%M:%S")
    data.users_summary.to_csv(paths["users_summary"], index=False, date_format="%Y-%m-%d %H:%M:%S")
    data.assignments.to_csv(paths["assignments"], index=False, date_format="%Y-%m-%d %H:%M:%S")
    return paths
