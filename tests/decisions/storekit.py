"""What the store tests share: realistic records, raw SQL behind the store's back, child scripts.

Importable as `storekit` by the child processes of the concurrency and crash tests (they put
this folder and the repo root first on sys.path, so they import this worktree's library).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from northstar_lab.decisions.model import (
    Decision,
    EvidenceSnapshot,
    InputMetric,
    MetricDefinition,
    RejectedAlternative,
    Revalidation,
    SignOff,
)

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

#: The key numbers of a candidate, in the order of the strings given to `candidate`.
NUMBERS = ("rank", "score", "c_index", "hazard_ratio", "hr_ci_low", "hr_ci_high", "revenue_rho",
           "q_value", "p_first")  # fmt: skip


def candidate(key: str, name: str, numbers: str, warnings=()) -> dict:
    """A candidate as `CandidateResult.to_dict()` writes it; numbers in NUMBERS order."""
    values = dict(zip(NUMBERS, map(float, numbers.split()), strict=True))
    return {"key": key, "name": name, "kind": "count", "event": key, "column": None,
            "transform": "log1p", **values, "rank": int(values["rank"]), "median_rank": 1.0,
            "revenue_rho_ci_low": None, "revenue_rho_ci_high": None, "n": 4000,
            "n_events": 1300, "warnings": list(warnings)}  # fmt: skip


def make_decision(title: str = "North Star for 2027", **changes) -> Decision:
    """A realistic decision: three candidates ranked, one chosen, two rejected with reasons."""
    ranking = {
        "n_users": 4000,
        "n_churned": 1300,
        "excluded": {"signed_up_too_late": 120},
        "settings": {"window_days": 14, "n_bootstrap": 200},
        "data": {},
        "candidates": [  # numbers: rank, score, C, HR [lo, hi], revenue ρ, q, P(first)
            candidate(
                "invites",
                "invite_sent count in first 14 days",
                "1 0.61 0.68 0.62 0.57 0.68 0.31 1e-9 0.71",
            ),
            candidate(
                "lessons",
                "lesson_completed count in first 14 days",
                "2 0.52 0.64 0.71 0.66 0.77 0.22 1e-6 0.24",
                ["hazard ratio drifts over follow-up"],
            ),
            candidate(
                "logins",
                "login count in first 14 days",
                "3 0.30 0.57 0.88 0.82 0.95 0.04 0.003 0.05",
            ),
        ],
        "warnings": [],
    }
    decision = Decision(
        title=title,
        chosen_key="invites",
        definition=MetricDefinition(
            name="Teams inviting a colleague in week 1",
            meaning="Share of new teams where someone invites a colleague in 14 days.",
            numerator="New teams with ≥ 2 invites in their first 14 days",
            denominator="New teams that signed up at least 14 days ago",
            time_window="First 14 days after signup",
            owner="Growth PM",
            baseline="31%",
            target="40% by Q4",
        ),
        rationale="Invites predict retention best and lead revenue.",
        rejected=[
            RejectedAlternative(
                "lessons", "Lessons completed", "Weaker retention signal: C 0.64", {"score": 0.52}
            ),
            RejectedAlternative("logins", "Logins", "No revenue association (ρ 0.04)"),
        ],
        evidence=EvidenceSnapshot(
            settings={"window_days": 14, "horizon_days": 90, "n_bootstrap": 200},
            fingerprint={"events": {"sha256": "ab" * 32, "rows": 123456}},
            ranking=ranking,
            charts={"forest": [{"key": "invites", "hazard_ratio": 0.62}]},
            rubric={"invites": {"actionable": 4}},
        ),
        input_metrics=[InputMetric("Invite prompts shown", "breadth", "Onboarding team")],
        sign_offs=[SignOff("Ada", "CEO"), SignOff("Grace", "VP Product")],
        created_by="facilitator",
    )
    for k, v in changes.items():
        setattr(decision, k, v)
    return decision


def make_revalidation(verdict: str = "holds") -> Revalidation:
    return Revalidation(
        decision_id=0,
        verdict=verdict,
        rule="Overtaken if another metric ranks first and is not tied; weakened if HR CI has 1.",
        summary=f"Verdict {verdict}.",
        comparison=[{"key": "invites", "then_rank": 1, "now_rank": 1}],
        fingerprint={"events": {"sha256": "cd" * 32}},
        settings={"window_days": 14},
        ranking={"candidates": []},
    )


def is_postgres(location: str) -> bool:
    return str(location).startswith("postgresql://")


class RawDB:
    """SQL straight to a store's database, bypassing the store (the way a tamperer would)."""

    def __init__(self, location: str) -> None:
        self.location = str(location)
        self.pg = is_postgres(self.location)

    @property
    def IntegrityError(self) -> type[Exception]:  # noqa: N802 (reads like the driver's class)
        if self.pg:
            import psycopg

            return psycopg.IntegrityError
        return sqlite3.IntegrityError

    def connect(self):
        if self.pg:
            import psycopg

            conn = psycopg.connect(self.location, autocommit=True)
            conn.execute("SET search_path TO northstar_lab")
            return conn
        return sqlite3.connect(self.location, isolation_level=None)

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one statement in autocommit; its rows (empty for statements without rows)."""
        conn = self.connect()
        try:
            if self.pg:
                cur = conn.execute(sql.replace("?", "%s"), params or None)
                return cur.fetchall() if cur.description else []
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def scalar(self, sql: str, params: tuple = ()):
        return self.execute(sql, params)[0][0]

    def count(self, table: str = "decisions") -> int:
        return self.scalar(f"SELECT count(*) FROM {table}")

    def integrity(self) -> str:
        """SQLite's integrity_check; on PostgreSQL, that every amendment link resolves."""
        if not self.pg:
            return self.scalar("PRAGMA integrity_check")
        broken = self.scalar(
            "SELECT count(*) FROM decisions d LEFT JOIN decisions s ON s.id = d.supersedes "
            "WHERE d.supersedes IS NOT NULL AND s.id IS NULL"
        )
        return "ok" if broken == 0 else f"{broken} broken links"

    def tamper(self, table: str, sql: str, params: tuple = ()) -> None:
        """Switch the table's triggers off, run `sql`, switch them on again (as an owner can)."""
        if self.pg:
            conn = self.connect()
            try:
                conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                conn.execute(sql.replace("?", "%s"), params or None)
                conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            finally:
                conn.close()
            return
        conn = self.connect()
        try:
            triggers = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                (table,),
            ).fetchall()
            for name, _ in triggers:
                conn.execute(f"DROP TRIGGER {name}")
            conn.execute(sql, params)
            for _, create in triggers:
                conn.execute(create)
        finally:
            conn.close()


def child_script(body: str) -> str:
    """A Python program for a child process that imports this worktree's library and kit."""
    header = f"import sys\nsys.path[:0] = [{str(ROOT)!r}, {str(HERE)!r}]\n"
    return header + textwrap.dedent(body)


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m northstar_lab ARGS` in a child process, from the repo root."""
    return subprocess.run(
        [sys.executable, "-m", "northstar_lab", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
