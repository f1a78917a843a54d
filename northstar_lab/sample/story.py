"""Lumen Learn's input-metrics chapter: weekly study goals drive later lessons, streak views ride
along with lessons, and past onboarding experiments moved both by different amounts.

Everything here is drawn after the main simulation of a block, from the block's own streams —
`(seed, block, 2)` for behaviour and `(seed, block, 4)` for experiment assignments — and every new
event is placed at the timestamp of an event the user already has. So no existing event moves and
no new active day appears: churn, revenue and the window counts of the original story stay exactly
as they were. What is added: two event types, `goal_set` (days [0, 14) only) and `streak_viewed`
(with any lesson completion), and extra `lesson_completed` events after day 14 for users who set
goals (planted data only).

- `goal_set`: Poisson(GOAL_RATE · e^{0.4·engagement − 0.08}) goals in the first 14 days, times the
  treatment lifts of the experiments the user is in; each goal adds GOAL_LESSONS_PER_DAY lesson
  completions a day, during the user's own visits after day 14 (a real driver of later lessons).
- `streak_viewed`: logged with a lesson completion with probability STREAK_P (times the treatment
  lifts): it follows lessons and drives nothing (a rider).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .spec import (
    DAY,
    ENROL_P,
    GOAL,
    GOAL_ENGAGEMENT,
    GOAL_LESSONS_PER_DAY,
    GOAL_RATE,
    LESSON_COMPLETED,
    PAST_EXPERIMENTS,
    SESSION_SECONDS,
    STREAK,
    STREAK_P,
    WINDOW_DAYS,
    Spec,
)

MAX_STREAK_P = 0.95


def assign_experiments(spec: Spec, b: int, signup: np.ndarray) -> np.ndarray:
    """(users, experiments) int8: -1 not enrolled, 0 control, 1 treatment.

    Each experiment enrols every signup with probability ENROL_P, then splits them 50/50.
    """
    rng = np.random.default_rng([spec.seed, b, 4])
    arms = np.full((len(signup), len(PAST_EXPERIMENTS)), -1, dtype=np.int8)
    for k in range(len(PAST_EXPERIMENTS)):
        enrol = rng.random(len(signup)) < ENROL_P
        treat = rng.random(len(signup)) < 0.5
        arms[enrol, k] = treat[enrol]
    return arms


def _lifts(arms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per user, the goal-rate and streak-probability multipliers of the treatments received."""
    treated = arms == 1
    goal = np.array([1.0 + e.goal_lift for e in PAST_EXPERIMENTS])
    streak = np.array([1.0 + e.streak_lift for e in PAST_EXPERIMENTS])
    return np.prod(np.where(treated, goal, 1.0), axis=1), np.prod(
        np.where(treated, streak, 1.0), axis=1
    )


def _at_existing(
    rng: np.random.Generator, user: np.ndarray, off: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """counts[i] new events for user i, each at the time of a random one of user i's events
    (`user`, `off`); users without events get none."""
    order = np.lexsort((off, user))
    user, off = user[order], off[order]
    ids = np.arange(len(counts))
    first = np.searchsorted(user, ids, "left")
    have = np.searchsorted(user, ids, "right") - first
    counts = np.where(have > 0, counts, 0)
    who = np.repeat(ids, counts)
    pick = first[who] + np.floor(rng.random(len(who)) * have[who]).astype(np.int64)
    return who, off[pick]


def story_events(
    spec: Spec,
    b: int,
    engagement: np.ndarray,
    arms: np.ndarray,
    user: np.ndarray,
    off: np.ndarray,
    code: np.ndarray,
    end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """New events (user, offset since signup, code) and each user's goals in days [0, 14).

    user/off/code: the block's events so far (offsets in seconds since signup); end: each
    user's churn or as-of offset (goal lessons accrue while the user is there after day 14).
    """
    rng = np.random.default_rng([spec.seed, b, 2])
    m = len(engagement)
    goal_mult, streak_mult = _lifts(arms)
    in_window = off < WINDOW_DAYS * DAY
    shift = GOAL_ENGAGEMENT**2 / 2  # the engagement term has mean 1 over users
    mu = GOAL_RATE * np.exp(GOAL_ENGAGEMENT * engagement - shift) * goal_mult
    g_user, g_off = _at_existing(rng, user[in_window], off[in_window], rng.poisson(mu))
    goals = np.bincount(g_user, minlength=m)
    parts = [(g_user, g_off, GOAL)]
    lesson_user, lesson_off = user[code == LESSON_COMPLETED], off[code == LESSON_COMPLETED]
    if not spec.null:
        # after the first session past day 14: with signup taken as the first event (which can
        # be up to a session later than the signup), no extra lesson falls in the window
        later = off >= WINDOW_DAYS * DAY + SESSION_SECONDS
        span = np.maximum(end / DAY - WINDOW_DAYS, 0.0)
        extra = rng.poisson(GOAL_LESSONS_PER_DAY * goals * span)
        x_user, x_off = _at_existing(rng, user[later], off[later], extra)
        parts.append((x_user, x_off, LESSON_COMPLETED))
        lesson_user = np.concatenate([lesson_user, x_user])
        lesson_off = np.concatenate([lesson_off, x_off])
    p = np.minimum(STREAK_P * streak_mult, MAX_STREAK_P)
    viewed = rng.random(len(lesson_user)) < p[lesson_user]
    parts.append((lesson_user[viewed], lesson_off[viewed], STREAK))
    new_user = np.concatenate([u for u, _, _ in parts]).astype(np.int64)
    new_off = np.concatenate([o for _, o, _ in parts]).astype(np.int64)
    new_code = np.concatenate([np.full(len(u), c, np.int16) for u, _, c in parts])
    return new_user, new_off, new_code, goals


def assignments_frame(ids: np.ndarray, signup_at: np.ndarray, arms: np.ndarray) -> pd.DataFrame:
    """One row per (user, experiment) enrolled: user_id, experiment, variant, assigned_at."""
    u, k = np.nonzero(arms >= 0)
    names = np.array([e.name for e in PAST_EXPERIMENTS], dtype=object)
    return pd.DataFrame(
        {
            "user_id": ids[u],
            "experiment": names[k],
            "variant": np.where(arms[u, k] == 1, "treatment", "control").astype(object),
            "assigned_at": signup_at[u],
        }
    )
