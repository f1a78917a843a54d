"""Lumen Learn's simulation, vectorised over users (loops run over event types and blocks).

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
   bill monthly; nobody pays after churn;
7. the input-metrics chapter (`story.py`, its own streams): weekly study goals set in days [0, 14)
   add lesson completions after day 14, streak views ride along with lessons, and eight past
   onboarding experiments moved goals and streak views by different amounts.

Randomness comes in blocks of `BLOCK_USERS` users, each with its own generator seeded by
`(seed, block)`, so `generate_product` and `iter_event_chunks` produce the same events whatever the
chunk size, and noise event types come from a separate stream so adding them leaves the rest alone.
`null=True` keeps every mechanism but cuts all links from window behaviour to churn and revenue:
churn after day 14 and upgrades are drawn independently of everything, and nobody churns inside
the window (such churn truncates the window's counts, itself a link to every outcome); the traits
that set behaviour after day 14 are shuffled across users, so that later lessons are unrelated to
anything done in the first 14 days, and goals add no lessons.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .spec import (
    BROWSE,
    CAMPAIGN_LIFT,
    CERTIFICATE,
    CHANNEL_LIFT,
    CHANNEL_P,
    CHANNELS,
    COUNTRIES,
    COUNTRY_P,
    DAY,
    EVENT_TYPES,
    INVITE,
    INVITE_CENTER,
    INVITE_COEF,
    LESSON_CENTER,
    LESSON_COEF,
    LESSON_COMPLETED,
    LESSON_STARTED,
    LOGIN,
    MAX_CHURN_DAYS,
    NOTE,
    PAYMENT,
    PLAN_P,
    PLANS,
    PRICE,
    QUIZ,
    SESSION_SECONDS,
    SETTINGS,
    UPGRADE_INTERCEPT,
    UPGRADE_LESSON_SLOPE,
    UPGRADE_RATE,
    VIDEO,
    WEIBULL_SCALE_DAYS,
    WEIBULL_SHAPE,
    WINDOW_DAYS,
    Block,
    Spec,
    sigmoid,
    signup_seconds,
)
from .story import assign_experiments, assignments_frame, story_events


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
    campaign: tuple[Spec, np.ndarray] | None = None,
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
    engagement: np.ndarray  # the engagement trait (sets goal-setting in story.py)

    @property
    def m(self) -> int:
        return len(self.signup)


def _draw_cohort(spec: Spec, rng: np.random.Generator, gidx: np.ndarray) -> _Cohort:
    """Signup, segment, latent traits and (planted only) churn inside the window."""
    m = len(gidx)
    signup = signup_seconds(spec, (gidx + rng.random(m)) / spec.n_users)
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
        "p_complete": sigmoid(0.2 + 0.4 * z_l + 1.1 * z[:, 6]),
        "mu_quiz": 0.15 * np.exp(0.6 * z[:, 4] - 0.18),
        "mu_video": 0.6 * np.exp(0.3 * z_l + 0.5 * z[:, 5] - 0.17),
        "mu_note": 0.15 * np.exp(0.7 * z_l - 0.25),
        "mu_invite": 0.05 * np.exp(0.9 * z[:, 3] - 0.4),
    }
    # Under null nobody churns inside the window: churn would truncate window counts, a real link.
    p_pre = np.zeros(m) if spec.null else sigmoid(-2.25 - 0.8 * z_e)
    pre = rng.random(m) < p_pre
    d_pre = (600 + (WINDOW_DAYS * DAY - 1200) * rng.random(m) ** 1.6).astype(np.int64)
    return _Cohort(
        signup=signup,
        plan=plan,
        channel=channel,
        country=country,
        horizon=spec.as_of_s - signup,
        traits=traits,
        p_day=sigmoid(-1.2 + 0.9 * z_e),
        q_extra=0.025 * np.exp(0.8 * z_e - 0.3),
        habit=0.09 * np.exp(0.7 * z[:, 2] - 0.25),
        pre=pre,
        d_pre=d_pre,
        engagement=z_e,
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


def _window_events(spec: Spec, rng: np.random.Generator, ev: _Events, c: _Cohort) -> np.ndarray:
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
    spec: Spec, rng: np.random.Generator, c: _Cohort, x: np.ndarray, y: np.ndarray
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
    spec: Spec, rng: np.random.Generator, ev: _Events, c: _Cohort, churn: np.ndarray
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
    spec: Spec, rng: np.random.Generator, ev: _Events, c: _Cohort, x: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """Paid plans bill monthly after a 14-day trial; free users may upgrade after day 14.

    Returns the upgrade time (seconds after signup; -1 if none).
    """
    m, w0 = c.m, WINDOW_DAYS * DAY
    p_up = (
        np.full(m, UPGRADE_RATE)
        if spec.null
        else sigmoid(UPGRADE_INTERCEPT + UPGRADE_LESSON_SLOPE * (x - LESSON_CENTER))
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


def _noise_events(spec: Spec, b: int, ev: _Events, end_w: np.ndarray, end: np.ndarray) -> None:
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


def simulate_block(spec: Spec, b: int) -> Block:
    """Users [b·BLOCK_USERS, …) with their events, from the block's own random stream."""
    lo_u, hi_u = b * spec.block_users, min((b + 1) * spec.block_users, spec.n_users)
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
    _post_window_events(spec, rng, ev, _later_self(spec, b, c), churn)
    upgrade = _payment_events(spec, rng, ev, c, x, end)
    arms = assign_experiments(spec, b, c.signup) if spec.input_story else None
    goals = np.zeros(c.m, dtype=np.int64)
    if spec.input_story:  # before the noise events, so that adding those leaves this alone
        s_user, s_off, s_code, _ = ev.arrays()
        new_user, new_off, new_code, goals = story_events(
            spec, b, c.engagement, arms, s_user, s_off, s_code, end
        )
        ev.parts.append((new_user, new_off, new_code, None))
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
            "goals_first_14d": goals,
            "upgraded_at": _datetimes(np.where(upgrade >= 0, c.signup + upgrade, -1)),
        }
    )
    summary = _summary(users, user, ts, code, value, c.signup, end, churned)
    assignments = assignments_frame(ids, signup_at, arms) if arms is not None else None
    return Block(
        users, truth, summary, (user + lo_u).astype(np.int32), ts, code, value, assignments
    )


def _later_self(spec: Spec, b: int, c: _Cohort) -> _Cohort:
    """The cohort whose traits set behaviour after day 14: the users themselves, except under
    null, where the traits are shuffled across users (from their own stream), so that nothing a
    user does after day 14 depends on what they did before it."""
    if not spec.null:
        return c
    perm = np.random.default_rng([spec.seed, b, 3]).permutation(c.m)
    return dataclasses.replace(
        c,
        traits={k: v[perm] for k, v in c.traits.items()},
        q_extra=c.q_extra[perm],
        habit=c.habit[perm],
    )


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


def events_frame(spec: Spec, blocks: list[Block], lo: int, hi: int) -> pd.DataFrame:
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
