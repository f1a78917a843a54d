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
- the users table's `total_logins` is a lifetime total, so it "predicts" tenure by construction.

How a user is simulated (all vectorised over users; loops run over event types and blocks only):

1. signup time: stratified draws from an hourly intensity with growth, weekly seasonality, a
   January and a back-to-school bump; user ids follow signup order;
2. latent traits (normal): engagement (sets active days; shifted by channel), learning intent
   (shares engagement; sets lessons, notes, videos), grit (lesson completion), habit (notification
   logins), social (invites), quiz and video appetite; 15% never start a lesson;
3. days [0, 14): each day is active with the user's propensity (day 0 always); every active day is a
   learning session emitting several event types (a session with nothing else still logs in);
   notification visits add login-only events; ~12% churn inside the window, less engaged users more
   often (their last session ends exactly at churn);
4. churn after day 14: Weibull proportional hazards on log1p(window lessons) and log1p(window
   invites); the last session ends exactly at the churn time;
5. days [14, churn or as_of): one session in every 14-day block (so a living user is never silent
   for 29 days or more, and a 30-day inactivity gap recovers the true churn to within the last
   session's 45 minutes), extra sessions at the user's propensity, notification logins, noise;
6. payments: pro (19) and team (49) bill monthly after a 14-day trial (no payment falls inside the
   window); free users upgrade after day 14 with a probability rising with window lessons, then
   bill monthly; nobody pays after churn.

Randomness comes in blocks of `BLOCK_USERS` users, each with its own generator seeded by
`(seed, block)`, so `generate_product` and `iter_event_chunks` produce the same events whatever the
chunk size, and noise event types come from a separate stream so adding them leaves the rest alone.
`null=True` keeps every mechanism but cuts all links from window behaviour to churn and revenue:
churn after day 14 and upgrades are drawn independently of everything, and nobody churns inside
the window (such churn truncates the window's counts, itself a link to every outcome).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class SampleData:
    """One generated product.

    events: user_id (str), timestamp (datetime64[ns], naive UTC, whole seconds), event (str),
        value (float: amount for 'payment', NaN otherwise); sorted by timestamp.
    users: user_id, signup_at, plan (at signup), channel, country.
    users_summary: one row per user as a CRM export would have it (see `users_summary`).
    truth: the planted story; truth['users'] holds each user's latent churn time.
    """

    events: pd.DataFrame
    users: pd.DataFrame
    users_summary: pd.DataFrame
    truth: dict


@dataclass(frozen=True)
class _Spec:
    n_users: int
    seed: int
    start_s: int
    signup_days: int
    as_of_s: int
    null: bool
    n_noise_events: int
    signup_cdf: np.ndarray  # hourly CDF of signup intensity, length signup_days*24 + 1

    @property
    def n_blocks(self) -> int:
        return -(-self.n_users // BLOCK_USERS)

    @property
    def event_names(self) -> tuple[str, ...]:
        return EVENT_TYPES + tuple(f"noise_{k + 1:02d}" for k in range(self.n_noise_events))

    def campaign(self, t: np.ndarray) -> np.ndarray:
        """Login-visit multiplier at absolute time t (seconds): 1, then a ramp to 1 + lift."""
        c0 = self.start_s + int(0.25 * self.signup_days) * DAY
        ramp = np.clip((t - c0) / max(self.as_of_s - c0, 1), 0.0, 1.0)
        return 1.0 + CAMPAIGN_LIFT * ramp


@dataclass
class _Block:
    users: pd.DataFrame  # user_id, signup_at, plan, channel, country (+ internals)
    truth: pd.DataFrame
    summary: pd.DataFrame
    ev_user: np.ndarray  # global user index
    ev_ts: np.ndarray  # seconds since epoch
    ev_code: np.ndarray
    ev_value: np.ndarray


def _to_seconds(x: str) -> int:
    return int(pd.Timestamp(x).value // 1_000_000_000)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _make_spec(
    n_users: int,
    seed: int,
    start: str,
    signup_days: int,
    as_of: str,
    null: bool,
    n_noise_events: int,
) -> _Spec:
    if n_users < 1:
        raise ValueError(f"n_users must be ≥ 1, got {n_users}")
    if signup_days < 1:
        raise ValueError(f"signup_days must be ≥ 1, got {signup_days}")
    if not 0 <= n_noise_events <= 99:
        raise ValueError(f"n_noise_events must be in 0..99, got {n_noise_events}")
    start_s = _to_seconds(start)
    start_s -= start_s % DAY
    as_of_s = _to_seconds(as_of)
    if start_s + signup_days * DAY > as_of_s:
        raise ValueError(
            f"signups from {start} over {signup_days} days run past as_of={as_of}; "
            "give an earlier start, fewer signup_days or a later as_of"
        )
    return _Spec(
        n_users=n_users,
        seed=seed,
        start_s=start_s,
        signup_days=signup_days,
        as_of_s=as_of_s,
        null=null,
        n_noise_events=n_noise_events,
        signup_cdf=_signup_cdf(start_s, signup_days, seed),
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


def _signup_seconds(spec: _Spec, q: np.ndarray) -> np.ndarray:
    cdf = spec.signup_cdf
    h = np.clip(np.searchsorted(cdf, q, side="right") - 1, 0, len(cdf) - 2)
    frac = (q - cdf[h]) / (cdf[h + 1] - cdf[h])
    sec = np.clip(np.floor(frac * 3600), 0, 3599).astype(np.int64)
    return spec.start_s + h.astype(np.int64) * 3600 + sec


def _group_rank(counts: np.ndarray) -> np.ndarray:
    """0, 1, …, c-1 for every group of a np.repeat(…, counts) expansion."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


class _Events:
    """Collects (user, offset seconds since signup, event code, value) pieces."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = []

    def add(self, user, offset, code, value=None) -> None:
        self.parts.append((user, offset, np.full(len(user), code, np.int16), value))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        user = np.concatenate([p[0] for p in self.parts]).astype(np.int64)
        off = np.concatenate([p[1] for p in self.parts]).astype(np.int64)
        code = np.concatenate([p[2] for p in self.parts])
        value = np.concatenate(
            [p[3] if p[3] is not None else np.full(len(p[0]), np.nan) for p in self.parts]
        )
        return user, off, code, value


def _session_events(
    rng: np.random.Generator,
    ev: _Events,
    s_user: np.ndarray,
    s_start: np.ndarray,
    s_len: np.ndarray,
    tr: dict[str, np.ndarray],
    post: bool,
) -> None:
    """Events of learning sessions: each session lasts s_len seconds from s_start (since signup)."""

    def emit(counts: np.ndarray, code: int, lo: float, hi: float) -> None:
        idx = np.repeat(np.arange(len(s_user)), counts)
        u = lo + (hi - lo) * rng.random(len(idx))
        ev.add(s_user[idx], s_start[idx] + np.floor(u * s_len[idx]), code)

    u = s_user
    k = 0.4 if post else 1.0
    started = rng.poisson(tr["mu_start"][u] * k)
    completed = rng.binomial(started, tr["p_complete"][u])
    counts = {
        LESSON_STARTED: (started, 0.02, 0.6),
        LESSON_COMPLETED: (completed, 0.4, 1.0),
        QUIZ: (rng.poisson(tr["mu_quiz"][u] + 0.12 * completed), 0.3, 1.0),
        VIDEO: (rng.poisson(tr["mu_video"][u] * k), 0.02, 1.0),
        NOTE: (rng.poisson(tr["mu_note"][u] * k), 0.1, 1.0),
        INVITE: (rng.poisson(tr["mu_invite"][u] * (0.3 if post else 1.0)), 0.02, 1.0),
        CERTIFICATE: (rng.binomial(completed, 0.06), 0.9, 1.0),
    }
    # A visit that does nothing else still logs in, so no session is silent.
    empty = sum(c for c, _, _ in counts.values()) == 0
    emit((empty | (rng.random(len(u)) < 0.45)).astype(np.int64), LOGIN, 0.0, 0.02)
    for code, (c, lo, hi) in counts.items():
        emit(c, code, lo, hi)


def _uniform_events(
    rng: np.random.Generator,
    ev: _Events,
    code: int,
    rate_per_day: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    campaign: tuple[_Spec, np.ndarray] | None = None,
) -> None:
    """Poisson events at rate_per_day, uniform on each user's [lo, hi) (seconds since signup).

    With `campaign`, the rate is thinned by the calendar-time campaign multiplier.
    """
    span = np.maximum(hi - lo, 0)
    boost = 1.0 + CAMPAIGN_LIFT if campaign else 1.0
    n = rng.poisson(rate_per_day * boost * span / DAY)
    user = np.repeat(np.arange(len(lo)), n)
    off = lo[user] + np.floor(rng.random(len(user)) * span[user])
    if campaign:
        spec, signup = campaign
        keep = rng.random(len(user)) * boost < spec.campaign(signup[user] + off)
        user, off = user[keep], off[keep]
    ev.add(user, off, code)


@dataclass
class _Cohort:
    """One block's users as arrays; times are seconds since each user's signup."""

    signup: np.ndarray  # seconds since epoch
    plan: np.ndarray
    channel: np.ndarray
    country: np.ndarray
    horizon: np.ndarray  # as_of − signup
    traits: dict[str, np.ndarray]  # per-session event rates
    p_day: np.ndarray  # chance that a window day is active
    q_extra: np.ndarray  # extra sessions per day after the window
    habit: np.ndarray  # notification login visits per day (before the campaign multiplier)
    pre: np.ndarray  # churns inside the window
    d_pre: np.ndarray  # that churn time

    @property
    def m(self) -> int:
        return len(self.signup)


def _draw_cohort(spec: _Spec, rng: np.random.Generator, gidx: np.ndarray) -> _Cohort:
    """Signup, segment, latent traits and (planted only) churn inside the window."""
    m = len(gidx)
    signup = _signup_seconds(spec, (gidx + rng.random(m)) / spec.n_users)
    channel = rng.choice(len(CHANNELS), m, p=CHANNEL_P)
    plan = rng.choice(len(PLANS), m, p=PLAN_P)
    country = rng.choice(len(COUNTRIES), m, p=COUNTRY_P)
    # Traits: engagement, learning intent (shares engagement), habit, social, quiz, video, grit.
    z = rng.standard_normal((m, 7))
    z_e = z[:, 0] + CHANNEL_LIFT[channel]
    z_l = 0.5 * z[:, 0] + 0.87 * z[:, 1]
    starter = rng.random(m) >= 0.15
    traits = {
        "mu_start": starter * 1.5 * np.exp(0.5 * z_l - 0.125),
        "p_complete": _sigmoid(0.2 + 0.4 * z_l + 1.1 * z[:, 6]),
        "mu_quiz": 0.15 * np.exp(0.6 * z[:, 4] - 0.18),
        "mu_video": 0.6 * np.exp(0.3 * z_l + 0.5 * z[:, 5] - 0.17),
        "mu_note": 0.15 * np.exp(0.7 * z_l - 0.25),
        "mu_invite": 0.05 * np.exp(0.9 * z[:, 3] - 0.4),
    }
    # Under null nobody churns inside the window: churn would truncate window counts, a real link.
    p_pre = np.zeros(m) if spec.null else _sigmoid(-2.25 - 0.8 * z_e)
    pre = rng.random(m) < p_pre
    d_pre = (600 + (WINDOW_DAYS * DAY - 1200) * rng.random(m) ** 1.6).astype(np.int64)
    return _Cohort(
        signup=signup,
        plan=plan,
        channel=channel,
        country=country,
        horizon=spec.as_of_s - signup,
        traits=traits,
        p_day=_sigmoid(-1.2 + 0.9 * z_e),
        q_extra=0.025 * np.exp(0.8 * z_e - 0.3),
        habit=0.09 * np.exp(0.7 * z[:, 2] - 0.25),
        pre=pre,
        d_pre=d_pre,
    )


def _sessions(
    rng: np.random.Generator,
    ev: _Events,
    c: _Cohort,
    s_user: np.ndarray,
    s_start: np.ndarray,
    end: np.ndarray,
    post: bool,
) -> None:
    """Learning sessions that start before the user's end; each is cut to end there."""
    s_start = s_start.astype(np.int64)
    keep = s_start < end[s_user]
    s_user, s_start = s_user[keep], s_start[keep]
    s_len = np.minimum(SESSION_SECONDS, end[s_user] - s_start)
    _session_events(rng, ev, s_user, s_start, s_len, c.traits, post)


def _window_events(spec: _Spec, rng: np.random.Generator, ev: _Events, c: _Cohort) -> np.ndarray:
    """Days [0, 14): a session on every active day (day 0 always); returns each window's end."""
    m = c.m
    end_w = np.minimum(np.where(c.pre, c.d_pre, WINDOW_DAYS * DAY), c.horizon)
    active = rng.random((m, WINDOW_DAYS)) < c.p_day[:, None]
    active[:, 0] = True
    tod = np.floor(rng.random((m, WINDOW_DAYS)) * (DAY - SESSION_SECONDS))
    tod[:, 0] = 0
    start = np.arange(WINDOW_DAYS) * DAY + tod
    users = np.broadcast_to(np.arange(m)[:, None], active.shape)
    last = c.pre & (c.d_pre <= c.horizon)  # the final session ends exactly at churn
    s_user = np.concatenate([users[active], np.flatnonzero(last)])
    s_start = np.concatenate([start[active], np.maximum(c.d_pre[last] - SESSION_SECONDS, 0)])
    _sessions(rng, ev, c, s_user, s_start, end_w, post=False)
    zero = np.zeros(m)
    _uniform_events(rng, ev, LOGIN, c.habit, zero, end_w, (spec, c.signup))
    _uniform_events(rng, ev, BROWSE, np.full(m, 0.20), zero, end_w)
    _uniform_events(rng, ev, SETTINGS, np.full(m, 0.03), zero, end_w)
    return end_w


def _churn_offsets(
    spec: _Spec, rng: np.random.Generator, c: _Cohort, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Latent churn (seconds after signup): Weibull PH after day 14 on log1p window counts x, y."""
    eta = (
        np.zeros(c.m)
        if spec.null
        else LESSON_COEF * (x - LESSON_CENTER) + INVITE_COEF * (y - INVITE_CENTER)
    )
    e = rng.exponential(size=c.m)
    t_days = np.minimum(
        WEIBULL_SCALE_DAYS * (e * np.exp(-eta)) ** (1 / WEIBULL_SHAPE), MAX_CHURN_DAYS
    )
    d_post = WINDOW_DAYS * DAY + 3600 + np.floor(t_days * DAY).astype(np.int64)
    return np.where(c.pre, c.d_pre, d_post)


def _post_window_events(
    spec: _Spec, rng: np.random.Generator, ev: _Events, c: _Cohort, churn: np.ndarray
) -> None:
    """Days [14, end): a session in every 14-day block, extra sessions, the final session."""
    m, w0 = c.m, WINDOW_DAYS * DAY
    end = np.minimum(churn, c.horizon)
    span = np.where(c.pre, 0, np.maximum(end - w0, 0))
    n_blocks = -(-span // (14 * DAY))
    bu = np.repeat(np.arange(m), n_blocks)
    b_start = w0 + _group_rank(n_blocks) * 14 * DAY + np.floor(rng.random(len(bu)) * 14 * DAY)
    n_extra = rng.poisson(c.q_extra * span / DAY)
    xu = np.repeat(np.arange(m), n_extra)
    x_start = w0 + np.floor(rng.random(len(xu)) * span[xu])
    last = ~c.pre & (churn <= c.horizon)
    s_user = np.concatenate([bu, xu, np.flatnonzero(last)])
    s_start = np.concatenate([b_start, x_start, churn[last] - SESSION_SECONDS])
    _sessions(rng, ev, c, s_user, s_start, end, post=True)
    lo = np.full(m, w0)
    _uniform_events(rng, ev, LOGIN, 0.2 * c.habit, lo, end, (spec, c.signup))
    _uniform_events(rng, ev, BROWSE, np.full(m, 0.02), lo, end)
    _uniform_events(rng, ev, SETTINGS, np.full(m, 0.004), lo, end)


def _payment_events(
    spec: _Spec, rng: np.random.Generator, ev: _Events, c: _Cohort, x: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Paid plans bill monthly after a 14-day trial; free users may upgrade after day 14.

    Returns the upgrade time (seconds after signup; -1 if none).
    """
    m, w0 = c.m, WINDOW_DAYS * DAY
    p_up = (
        np.full(m, UPGRADE_RATE)
        if spec.null
        else _sigmoid(UPGRADE_INTERCEPT + UPGRADE_LESSON_SLOPE * (x - LESSON_CENTER))
    )
    upgraded = (c.plan == 0) & ~c.pre & (rng.random(m) < p_up)
    up_plan = np.where(rng.random(m) < 0.85, 1, 2)
    up_off = w0 + np.floor(rng.exponential(30.0, m) * DAY).astype(np.int64)
    upgraded &= up_off < end
    pay_from = np.where(c.plan > 0, w0 + 60, np.where(upgraded, up_off, end))
    pay_plan = np.where(c.plan > 0, c.plan, up_plan)
    n_pay = np.where(end > pay_from, -(-(end - pay_from) // (30 * DAY)), 0)
    pu = np.repeat(np.arange(m), n_pay)
    ev.add(pu, pay_from[pu] + _group_rank(n_pay) * 30 * DAY, PAYMENT, PRICE[pay_plan[pu]])
    return np.where(upgraded, up_off, -1)


def _noise_events(spec: _Spec, b: int, ev: _Events, end_w: np.ndarray, end: np.ndarray) -> None:
    """noise_01…: pure noise from their own stream, so adding them changes nothing else.

    Rates run from 0.01 to 0.08 a day inside the window and a twentieth of that after it.
    """
    rng = np.random.default_rng([spec.seed, b, 1])
    m = len(end)
    for k in range(spec.n_noise_events):
        rate = 0.01 * 8 ** (k / max(spec.n_noise_events - 1, 1))
        code = len(EVENT_TYPES) + k
        _uniform_events(rng, ev, code, np.full(m, rate), np.zeros(m), end_w)
        _uniform_events(rng, ev, code, np.full(m, rate / 20), np.full(m, WINDOW_DAYS * DAY), end)


def _simulate_block(spec: _Spec, b: int) -> _Block:
    """Users [b·BLOCK_USERS, …) with their events, from the block's own random stream."""
    lo_u, hi_u = b * BLOCK_USERS, min((b + 1) * BLOCK_USERS, spec.n_users)
    rng = np.random.default_rng([spec.seed, b, 0])
    gidx = np.arange(lo_u, hi_u)
    c = _draw_cohort(spec, rng, gidx)
    ev = _Events()
    end_w = _window_events(spec, rng, ev, c)
    w_user, _, w_code, _ = ev.arrays()
    lessons14 = np.bincount(w_user[w_code == LESSON_COMPLETED], minlength=c.m)
    invites14 = np.bincount(w_user[w_code == INVITE], minlength=c.m)
    x = np.log1p(lessons14)
    churn = _churn_offsets(spec, rng, c, x, np.log1p(invites14))
    end = np.minimum(churn, c.horizon)
    _post_window_events(spec, rng, ev, c, churn)
    upgrade = _payment_events(spec, rng, ev, c, x, end)
    if spec.n_noise_events:
        _noise_events(spec, b, ev, end_w, end)

    user, off, code, value = ev.arrays()
    ts = c.signup[user] + off
    order = np.lexsort((code, user, ts))
    user, ts, code, value = user[order], ts[order], code[order], value[order]

    ids = _user_ids(gidx, spec.n_users)
    signup_at = _datetimes(c.signup)
    users = pd.DataFrame(
        {
            "user_id": ids,
            "signup_at": signup_at,
            "plan": np.array(PLANS, dtype=object)[c.plan],
            "channel": np.array(CHANNELS, dtype=object)[c.channel],
            "country": np.array(COUNTRIES, dtype=object)[c.country],
        }
    )
    churned = churn <= c.horizon
    truth = pd.DataFrame(
        {
            "user_id": ids,
            "signup_at": signup_at,
            "churn_at": _datetimes(c.signup + churn),
            "churned": churned,
            "lessons_first_14d": lessons14,
            "invites_first_14d": invites14,
            "upgraded_at": _datetimes(np.where(upgrade >= 0, c.signup + upgrade, -1)),
        }
    )
    summary = _summary(users, user, ts, code, value, c.signup, end, churned)
    return _Block(users, truth, summary, (user + lo_u).astype(np.int32), ts, code, value)


def _summary(users, user, ts, code, value, signup, end, churned) -> pd.DataFrame:
    """users_summary from the block's events: window counts, lifetime logins, revenue per month."""
    m = len(users)
    in_w = ts < signup[user] + WINDOW_DAYS * DAY

    def count(c: int, window: bool) -> np.ndarray:
        sel = (code == c) & in_w if window else code == c
        return np.bincount(user[sel], minlength=m)

    revenue = np.bincount(user[code == PAYMENT], value[code == PAYMENT], minlength=m)
    tenure = end / DAY
    return pd.DataFrame(
        {
            "user_id": users["user_id"],
            "signup_at": users["signup_at"],
            "tenure_days": np.round(tenure, 3),
            "churned": np.where(churned, "yes", "no").astype(object),
            "revenue_per_month": np.round(revenue / np.maximum(tenure / 30.4375, 1.0), 2),
            "lessons_first_14d": count(LESSON_COMPLETED, True),
            "logins_first_14d": count(LOGIN, True),
            "quizzes_first_14d": count(QUIZ, True),
            "total_logins": count(LOGIN, False),
            "plan": users["plan"],
            "channel": users["channel"],
        }
    )


def _user_ids(gidx: np.ndarray, n_users: int) -> np.ndarray:
    width = max(6, len(str(n_users)))
    digits = np.char.zfill((gidx + 1).astype(str), width)
    return np.char.add("u", digits).astype(object)


def _datetimes(seconds: np.ndarray) -> np.ndarray:
    out = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[ns]")
    return np.where(np.asarray(seconds) < 0, np.datetime64("NaT"), out)


def _events_frame(spec: _Spec, blocks: list[_Block], lo: int, hi: int) -> pd.DataFrame:
    """Events of users [lo, hi) (global indices) from the given blocks, sorted by time."""
    user = np.concatenate([bl.ev_user for bl in blocks])
    ts = np.concatenate([bl.ev_ts for bl in blocks])
    code = np.concatenate([bl.ev_code for bl in blocks])
    value = np.concatenate([bl.ev_value for bl in blocks])
    sel = (user >= lo) & (user < hi)
    if not sel.all():
        user, ts, code, value = user[sel], ts[sel], code[sel], value[sel]
    if len(blocks) > 1:
        order = np.lexsort((code, user, ts))
        user, ts, code, value = user[order], ts[order], code[order], value[order]
    ids = _user_ids(np.arange(lo, hi), spec.n_users)
    return pd.DataFrame(
        {
            "user_id": ids[user - lo],
            "timestamp": _datetimes(ts),
            "event": np.array(spec.event_names, dtype=object)[code],
            "value": value,
        }
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
    spec = _make_spec(n_users, seed, start, signup_days, as_of, null, n_noise_events)
    blocks = [_simulate_block(spec, b) for b in range(spec.n_blocks)]
    events = _events_frame(spec, blocks, 0, n_users)
    users = pd.concat([bl.users for bl in blocks], ignore_index=True)
    summary = pd.concat([bl.summary for bl in blocks], ignore_index=True)
    per_user = pd.concat([bl.truth for bl in blocks], ignore_index=True)
    return SampleData(events, users, summary, _truth(spec, per_user))


def _truth(spec: _Spec, per_user: pd.DataFrame) -> dict:
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
    spec = _make_spec(
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
    carry: dict[int, _Block] = {}  # a block that straddles two chunks
    for lo in range(0, n_users, chunk_users):
        hi = min(lo + chunk_users, n_users)
        wanted = range(lo // BLOCK_USERS, (hi - 1) // BLOCK_USERS + 1)
        blocks = [carry[b] if b in carry else _simulate_block(spec, b) for b in wanted]
        carry = {wanted[-1]: blocks[-1]} if (wanted[-1] + 1) * BLOCK_USERS > hi else {}
        frame = _events_frame(spec, blocks, lo, hi)
        del blocks
        yield frame


def write_sample(directory, n_users: int = 8000, seed: int = 7) -> dict[str, Path]:
    """Write events.parquet (zstd, dictionary-encoded), users.csv and users_summary.csv."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    data = generate_product(n_users, seed)
    paths = {
        "events": out / "events.parquet",
        "users": out / "users.csv",
        "users_summary": out / "users_summary.csv",
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
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m northstar_lab.sample",
        description=f"Write the {PRODUCT} sample: events.parquet, users.csv, users_summary.csv.",
    )
    parser.add_argument("--out", default="sample_data", help="directory to write into")
    parser.add_argument("--users", type=int, default=8000, help="number of users (default 8000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = parser.parse_args(argv)
    paths = write_sample(args.out, n_users=args.users, seed=args.seed)
    for path in paths.values():
        print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
