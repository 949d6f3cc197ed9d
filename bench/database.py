"""The benchmark's own database: created fresh, migrated, filled with organizations."""

import os
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from bench import ROOT, BenchError
from bench.cpu import proc_stat
from organizations.inn import inn_with_check_digit

BENCH_DATABASE = "bank_webhook_bench"
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def database_urls() -> tuple[str, str]:
    """(URL of the server's maintenance database, URL of the bench database)."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "psql"):
        raise BenchError(f"DATABASE_URL must be a PostgreSQL URL, not {parts.scheme}://")
    parts = parts._replace(scheme="postgresql")
    return (
        urlunsplit(parts._replace(path="/postgres")),
        urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}")),
    )


def database_recreate(admin_url: str) -> tuple[str, int | None]:
    """Drop and create the bench database; return the server's version and, when the server
    runs on this machine, the process id of its postmaster."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
        version = conn.execute("SHOW server_version").fetchone()[0]
        backend = proc_stat(str(conn.execute("SELECT pg_backend_pid()").fetchone()[0]))
    postmaster = backend[1] if backend and backend[0] == "postgres" else None
    return version, postmaster


def database_transactions(admin_url: str, timeout: float = 10) -> int:
    """Transactions committed or rolled back in the bench database so far, once no session
    is left on it (a session's counts are published at the latest when it ends)."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            sessions = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [BENCH_DATABASE]
            ).fetchone()[0]
            if sessions == 0 or time.monotonic() > deadline:
                return conn.execute(
                    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                    [BENCH_DATABASE],
                ).fetchone()[0]
        time.sleep(0.2)


def database_analyze(bench_url: str) -> None:
    """Gather planner statistics, as autovacuum would once the tables have grown. Sessions
    re-plan their cached statements (those of PL/pgSQL functions and triggers included)."""
    import psycopg

    with psycopg.connect(bench_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("ANALYZE")


def manage(env: dict[str, str], *args: str, timeout: int = 300) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=timeout,
    )


def django_setup(env: dict[str, str]) -> None:
    import django

    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    os.environ["DJANGO_SETTINGS_MODULE"] = env["DJANGO_SETTINGS_MODULE"]
    django.setup()


def inns(prefix: str, count: int) -> list[str]:
    return [inn_with_check_digit(f"{prefix}{n:07d}") for n in range(1, count + 1)]


def organizations_create(known_inns: list[str]) -> None:
    from django.db import connections

    from organizations.services import organization_create

    for number, inn in enumerate(known_inns, start=1):
        organization_create(inn=inn, name=f"Bench organization {number}")
    connections.close_all()


class PeriodicFold(threading.Thread):
    """Folds balance deltas every `interval` seconds while the load runs, as the scheduled
    task does in production. Use as a context manager; a 0 interval does nothing."""

    def __init__(self, interval: float):
        super().__init__(name="periodic-fold", daemon=True)
        self.interval = interval
        self.folds = 0
        self.folded = 0
        self.busy_s = 0.0
        self.error: Exception | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from accounting.services import account_balances_fold

        try:
            while not self._stop_event.wait(self.interval):
                started = time.monotonic()
                self.folded += account_balances_fold()
                self.busy_s += time.monotonic() - started
                self.folds += 1
        except Exception as exc:  # reported with the books
            self.error = exc
        finally:
            connection.close()

    def summary(self, *, interval: float) -> dict:
        return {
            "interval_s": interval,
            "folds": self.folds,
            "folded": self.folded,
            "busy_s": round(self.busy_s, 3),
            "rate_per_s": self.folded / self.busy_s if self.busy_s else 0.0,
        }

    def __enter__(self) -> "PeriodicFold":
        if self.interval > 0:
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=60)


def scalars(sql: str, params=()) -> tuple:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def scalar(sql: str, params=()):
    return scalars(sql, params)[0]


APP_ROLE = "bank_webhook_app"


def app_role_url(admin_url: str, bench_url: str) -> str:
    """The bench database's URL for the application's role (created when missing), which
    the server connects as, as in production; the benchmark itself works as the owner."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone():
            conn.execute(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER')
    parts = urlsplit(bench_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{APP_ROLE}@{host}"))
