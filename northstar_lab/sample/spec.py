"""Lumen Learn's constants: event types, plans, channels, and the planted truth (coefficients
of the churn and upgrade models). A `Spec` fixes one run (size, seed, dates); `make_spec`
builds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PRODUCT = "Lumen Learn"
WINDOW_DAYS = 14
DAY = 86_400
BLOCK_USERS = 10_000
SESSION_SECONDS = 2_700
EVENT_TYPES = (
    "login",
    "lesson_started",
    "lesson_completed",
    "quiz_taken",
    "video_watched",
    "course_browsed",
    "note_created",
    "invite_sent",
    "certificate_downloaded",
    "settings_changed",
    "payment",
    "goal_set",
    "streak_viewed",
)


(
    LOGIN,
    LESSON_STARTED,
    LESSON_COMPLETED,
    QUIZ,
    VIDEO,
    BROWSE,
    NOTE,
    INVITE,
    CERTIFICATE,
    SETTINGS,
    PAYMENT,
    GOAL,
    STREAK,
) = range(len(EVENT_TYPES))


PLANS = ("free", "pro", "team")
PLAN_P = (0.78, 0.17, 0.05)
PRICE = np.array([0.0, 19.0, 49.0])
CHANNELS = ("organic", "paid_search", "referral", "partner")
CHANNEL_P = (0.40, 0.30, 0.18, 0.12)
CHANNEL_LIFT = np.array([0.0, -0.25, 0.30, 0.15])  # shift of the engagement trait
COUNTRIES = ("US", "IN", "GB", "DE", "BR", "CA", "FR")
COUNTRY_P = (0.40, 0.15, 0.12, 0.10, 0.08, 0.08, 0.07)


# The planted truth (log-HR per unit of log1p(count in days [0, 14)); centred so that the Weibull
# scale describes a typical user).
LESSON_COEF = -0.50
INVITE_COEF = -0.12
LESSON_CENTER = 1.1
INVITE_CENTER = 0.2
WEIBULL_SHAPE = 0.85
WEIBULL_SCALE_DAYS = 170.0
UPGRADE_INTERCEPT = -2.6
UPGRADE_RATE = 0.13
UPGRADE_LESSON_SLOPE = 1.5
CAMPAIGN_LIFT = 2.5  # notification campaign: login visits ramp up to (1 + lift)x by as_of
MAX_CHURN_DAYS = 20_000

# The input-metrics chapter (story.py), drawn from its own random streams. Setting a weekly study
# goal in the first 14 days drives later lessons: each goal adds GOAL_LESSONS_PER_DAY lesson
# completions a day, during the user's own visits after day 14. Streak views ride along: one is
# logged with a lesson completion with probability STREAK_P, and they drive nothing.
GOAL_RATE = 0.5  # goals set in days [0, 14) by a typical user (Poisson mean)
GOAL_ENGAGEMENT = 0.4  # engaged users set more goals (log-rate per SD of engagement)
GOAL_LESSONS_PER_DAY = 0.02
STREAK_P = 0.35
ENROL_P = 0.5  # share of all signups that each experiment enrols (independently of the others)


@dataclass(frozen=True)
class PastExperiment:
    """An onboarding experiment: a random ENROL_P of all signups are enrolled, half of them to
    'treatment', which multiplies the goal rate by 1 + goal_lift and the streak-view probability
    by 1 + streak_lift. Enrolment does not depend on the signup date, so no experiment is tied
    to a season or to another experiment."""

    name: str
    goal_lift: float
    streak_lift: float


# No experiment moves both goals and streak views (a treatment moving both would tie them together
# user by user), and the streak lifts sum to zero, so the two lifts are uncorrelated across
# experiments: what the North Star does across them follows the goal lift alone.
PAST_EXPERIMENTS = (
    PastExperiment("home_feed_refresh", 0.0, 0.0),
    PastExperiment("streak_badges", 0.0, 0.8),
    PastExperiment("goal_templates", 0.5, 0.0),
    PastExperiment("quiet_completion_screen", 0.0, -0.8),
    PastExperiment("weekly_goal_reminder", 1.5, 0.0),
    PastExperiment("streak_animation", 0.0, 0.4),
    PastExperiment("onboarding_goal_prompt", 3.0, 0.0),
    PastExperiment("fewer_streak_prompts", 0.0, -0.4),
)


@dataclass(frozen=True)
class SampleData:
    """One generated product.

    events: user_id (str), timestamp (datetime64[ns], naive UTC, whole seconds), event (str),
        value (float: amount for 'payment', NaN otherwise); sorted by timestamp.
    users: user_id, signup_at, plan (at signup), channel, country.
    users_summary: one row per user as a CRM export would have it (see `users_summary`).
    truth: the planted story; truth['users'] holds each user's latent churn time.
    assignments: past experiments: user_id, experiment, variant ('control' / 'treatment'),
        assigned_at (the signup time: onboarding experiments).
    """

    events: pd.DataFrame
    users: pd.DataFrame
    users_summary: pd.DataFrame
    truth: dict
    assignments: pd.DataFrame | None = None


@dataclass(frozen=True)
class Spec:
    n_users: int
    seed: int
    start_s: int
    signup_days: int
    as_of_s: int
    null: bool
    n_noise_events: int
    signup_cdf: np.ndarray  # hourly CDF of signup intensity, length signup_days*24 + 1
    block_users: int = BLOCK_USERS  # users per random stream (tests shrink it)
    input_story: bool = True  # goals, streak views, past experiments (tests turn it off)

    @property
    def n_blocks(self) -> int:
        return -(-self.n_users // self.block_users)

    @property
    def event_names(self) -> tuple[str, ...]:
        return EVENT_TYPES + tuple(f"noise_{k + 1:02d}" for k in range(self.n_noise_events))

    def campaign(self, t: np.ndarray) -> np.ndarray:
        """Login-visit multiplier at absolute time t (seconds): 1, then a ramp to 1 + lift."""
        c0 = self.start_s + int(0.25 * self.signup_days) * DAY
        ramp = np.clip((t - c0) / max(self.as_of_s - c0, 1), 0.0, 1.0)
        return 1.0 + CAMPAIGN_LIFT * ramp


@dataclass
class Block:
    users: pd.DataFrame  # user_id, signup_at, plan, channel, country (+ internals)
    truth: pd.DataFrame
    summary: pd.DataFrame
    ev_user: np.ndarray  # global user index
    ev_ts: np.ndarray  # seconds since epoch
    ev_code: np.ndarray
    ev_value: np.ndarray
    assignments: pd.DataFrame | None = None


def to_seconds(x: str) -> int:
    return int(pd.Timestamp(x).value // 1_000_000_000)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def make_spec(
    n_users: int,
    seed: int,
    start: str,
    signup_days: int,
    as_of: str,
    null: bool,
    n_noise_events: int,
) -> Spec:
    if n_users < 1:
        raise ValueError(f"n_users must be ≥ 1, got {n_users}")
    if signup_days < 1:
        raise ValueError(f"signup_days must be ≥ 1, got {signup_days}")
    if not 0 <= n_noise_events <= 99:
        raise ValueError(f"n_noise_events must be in 0..99, got {n_noise_events}")
    start_s = to_seconds(start)
    start_s -= start_s % DAY
    as_of_s = to_seconds(as_of)
    if start_s + signup_days * DAY > as_of_s:
        raise ValueError(
            f"signups from {start} over {signup_days} days run past as_of={as_of}; "
            "give an earlier start, fewer signup_days or a later as_of"
        )
    return Spec(
        n_users=n_users,
        seed=seed,
        start_s=start_s,
        signup_days=signup_days,
        as_of_s=as_of_s,
        null=null,
        n_noise_events=n_noise_events,
        signup_cdf=_signup_cdf(start_s, signup_days, seed),
        block_users=BLOCK_USERS,
    )


def _signup_cdf(start_s: int, signup_days: int, seed: int) -> np.ndarray:
    """Hourly signup intensity: growth, weekday pattern, seasonal bumps, day-level noise."""
    rng = np.random.default_rng([seed, 2**31])
    days = np.arange(signup_days)
    dates = np.datetime64(start_s, "s").astype("datetime64[D]") + days
    weekday = (dates.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    doy = (dates - dates.astype("datetime64[Y]")).astype("int64")
    day_w = np.exp(np.log(2.5) * days / max(signup_days - 1, 1))
    day_w *= np.array([1.12, 1.10, 1.06, 1.02, 0.90, 0.78, 1.00])[weekday]
    day_w *= np.where(doy < 21, 1.3, 1.0) * np.where((doy >= 243) & (doy < 264), 1.35, 1.0)
    day_w *= np.exp(rng.normal(0.0, 0.08, signup_days))
    hour = np.arange(24)
    hour_w = (
        0.3 + np.exp(-0.5 * ((hour - 14) / 3.5) ** 2) + 0.8 * np.exp(-0.5 * ((hour - 20) / 2) ** 2)
    )
    w = (day_w[:, None] * hour_w[None, :]).ravel()
    cdf = np.concatenate([[0.0], np.cumsum(w)])
    return cdf / cdf[-1]


def signup_seconds(spec: Spec, q: np.ndarray) -> np.ndarray:
    cdf = spec.signup_cdf
    h = np.clip(np.searchsorted(cdf, q, side="right") - 1, 0, len(cdf) - 2)
    frac = (q - cdf[h]) / (cdf[h + 1] - cdf[h])
    sec = np.clip(np.floor(frac * 3600), 0, 3599).astype(np.int64)
    return spec.start_s + h.astype(np.int64) * 3600 + sec
