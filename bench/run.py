"""Throughput of the bank webhook against the framework floor, then a check of the books.

    .venv/bin/python bench/run.py [--duration 20] [--connections 8] [--threads 2]
                                  [--warmup 3] [--workers 4] [--json PATH]

1. Recreates the database `bank_webhook_bench` on the server of DATABASE_URL (default
   postgres://postgres@127.0.0.1:5432), migrates it and creates the organizations.
2. Serves the service with gunicorn (sync workers, settings `bench.settings`) on 127.0.0.1.
3. Warms up `POST /api/v1/webhook/bank/` with wrk (bench/webhook.lua: a new payment in every
   request, some from INNs without an organization), runs ANALYZE (as autovacuum does once
   tables have grown), and warms up `GET /bench/floor/` (a DRF view with no database access).
4. Measures the webhook, then the floor, with the same wrk settings; with --rounds N, in N
   alternating runs each. Balance deltas are folded meanwhile on the schedule of the
   service's periodic task.
5. Stops gunicorn and checks the books.

Exits 1 when a check fails, 2 when the benchmark could not run.
"""

import argparse
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
# Run as a script, the interpreter puts bench/ first on the path, where bench/settings.py
# would shadow the `settings` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = "bank_webhook_bench"
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres"
WEBHOOK_PATH = "/api/v1/webhook/bank/"
FLOOR_PATH = "/bench/floor/"
KNOWN_INN_PREFIX = "77"
UNKNOWN_INN_PREFIX = "99"
UNKNOWN_INNS = 10
IDLE_SHARE = 0.2
WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class BenchError(Exception):
    """The benchmark could not run."""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=int, default=20, help="seconds of measured load per endpoint"
    )
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up of each endpoint")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="split each endpoint's measured time into this many runs, alternating webhook "
        "and floor, so that both see the same state of a shared machine",
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk -c")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--organizations", type=int, default=100)
    parser.add_argument(
        "--unknown-share",
        type=float,
        default=0.1,
        help="share of webhooks whose payer INN has no organization",
    )
    parser.add_argument(
        "--fold-interval",
        type=float,
        help="seconds between balance folds during the webhook load, as the scheduled task "
        "does (default: BALANCE_FOLD_INTERVAL_SECONDS of the settings; 0: no fold)",
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="skip the ANALYZE of the bench database after the webhook warm-up",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait up to this long for the machine to be idle (under 20%% busy) before the load",
    )
    parser.add_argument(
        "--settings", default="bench.settings", help="Django settings module of the server"
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.duration < 1 or args.warmup < 0 or args.connections < args.threads:
        parser.error("need --duration >= 1, --warmup >= 0 and --connections >= --threads")
    if not 1 <= args.rounds <= args.duration:
        parser.error("need 1 <= --rounds <= --duration")
    if not 0 <= args.unknown_share <= 1:
        parser.error("--unknown-share must be between 0 and 1")
    return args


# Database


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
        backend = _proc_stat(str(conn.execute("SELECT pg_backend_pid()").fetchone()[0]))
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


def inn_with_check_digit(nine_digits: str) -> str:
    check = sum(int(d) * w for d, w in zip(nine_digits, WEIGHTS_10, strict=True)) % 11 % 10
    return f"{nine_digits}{check}"


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
        self.error: Exception | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from accounting.services import account_balances_fold

        try:
            while not self._stop_event.wait(self.interval):
                self.folded += account_balances_fold()
                self.folds += 1
        except Exception as exc:  # reported with the books
            self.error = exc
        finally:
            connection.close()

    def __enter__(self) -> "PeriodicFold":
        if self.interval > 0:
            self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=60)


# Server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen:
    options = (
        f"--workers {workers} --bind 127.0.0.1:{port} --log-level warning "
        "--timeout 30 --graceful-timeout 10"
    )
    command = [sys.executable, "-m", "gunicorn", "settings.wsgi:application", *options.split()]
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def server_wait(server: subprocess.Popen, url: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.returncode}:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer {url} within {timeout:.0f}s:\n{log_tail(log)}")


def gunicorn_stop(server: subprocess.Popen) -> None:
    """Stop gracefully, letting workers finish the requests they hold; kill after 20s."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


# CPU accounting (Linux /proc; figures are left out elsewhere)


def _proc_stat(pid: str) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds) of a process, with those of its children
    that ended and were waited for (a PostgreSQL backend's time moves to the postmaster)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, int(fields[1]), sum(int(t) for t in fields[11:15]) / CLOCK_TICKS


def machine_busy_share(seconds: float = 1.0) -> float | None:
    """Share of all cores' time spent busy over the next `seconds`."""
    if not Path("/proc/stat").exists():
        return None

    def ticks() -> tuple[int, int]:
        values = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
        return sum(values) - values[3] - values[4], sum(values)

    busy, total = ticks()
    time.sleep(seconds)
    busy_after, total_after = ticks()
    return (busy_after - busy) / max(total_after - total, 1)


def cpu_snapshot(server_pid: int, postmaster_pid: int | None) -> dict[str, float] | None:
    """CPU seconds used so far by the gunicorn workers, the database server's processes,
    finished child processes of this script (wrk), and the whole machine (busy, all cores).
    The database figure stays 0 when its server does not run on this machine."""
    if not Path("/proc/stat").exists():
        return None
    app = database = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _proc_stat(entry.name)
        if stat is None:
            continue
        name, parent, seconds = stat
        if server_pid in (parent, int(entry.name)):
            app += seconds
        elif postmaster_pid in (parent, int(entry.name)):
            database += seconds
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(t) for t in cpu]
    idle = ticks[3] + ticks[4]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "app": app,
        "database": database,
        "load_generator": children.ru_utime + children.ru_stime,
        "machine_busy": (sum(ticks[:8]) - idle) / CLOCK_TICKS,
        "machine_total": sum(ticks[:8]) / CLOCK_TICKS,
    }


def cpu_per_request(before, after, requests: int, wall: float) -> dict[str, float] | None:
    if before is None or after is None or not requests:
        return None
    spent = {key: max(after[key] - before[key], 0.0) for key in before}
    ours = spent["app"] + spent["database"] + spent["load_generator"]
    return {
        "app_ms": 1000 * spent["app"] / requests,
        "database_ms": 1000 * spent["database"] / requests,
        "load_generator_ms": 1000 * spent["load_generator"] / requests,
        "other_ms": 1000 * max(spent["machine_busy"] - ours, 0) / requests,
        "machine_busy_pct": 100 * spent["machine_busy"] / max(spent["machine_total"], 1e-9),
        # Busy time of no process of the benchmark: the kernel's own work, or other load.
        "other_pct": 100 * max(spent["machine_busy"] - ours, 0) / max(spent["machine_total"], 1e-9),
        "wall_s": wall,
    }


# Load


def wrk_run(args, url: str, script: str, duration: int, script_args=()) -> dict:
    options = f"-t{args.threads} -c{args.connections} -d{duration}s --timeout 10s"
    command = [args.wrk, *options.split(), "-s", str(BENCH / script), url, "--", *script_args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish within {duration + 30}s") from exc
    for line in done.stdout.splitlines():
        if line.startswith("WRK_STATS "):
            stats = json.loads(line.removeprefix("WRK_STATS "))
            stats["socket_error_count"] = sum(stats["socket_errors"].values())
            return stats
    raise BenchError(
        f"wrk printed no figures (exit {done.returncode}):\n{done.stdout}{done.stderr}"
    )


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    script: str
    # The wrk script's arguments, given a number that differs for every wrk invocation.
    script_args: Callable[[int], list[str]]


def warm_up(args, target: Target) -> dict:
    if not args.warmup:
        return {"requests": 0, "non_2xx": 0, "socket_error_count": 0}
    return wrk_run(args, target.url, target.script, args.warmup, target.script_args(_nonce()))


def measure(args, target: Target, seconds: int, pids: tuple[int, int | None]) -> dict:
    """The figures of one wrk run, with the CPU time spent meanwhile."""
    before, started = cpu_snapshot(*pids), time.monotonic()
    stats = wrk_run(args, target.url, target.script, seconds, target.script_args(_nonce()))
    after, wall = cpu_snapshot(*pids), time.monotonic() - started
    stats["cpu"] = cpu_per_request(before, after, stats["requests"], wall)
    return stats


def combine(runs: list[dict]) -> dict:
    """One set of figures for several runs of the same endpoint: totals, CPU weighted by
    requests, and, for the latency percentiles, the median over the runs."""
    if len(runs) == 1:
        return runs[0]
    requests = sum(run["requests"] for run in runs)
    seconds = sum(run["duration_s"] for run in runs)
    latency = {
        key: statistics.median(run["latency_us"][key] for run in runs)
        for key in ("p50", "p90", "p99")
    }
    latency["max"] = max(run["latency_us"]["max"] for run in runs)
    latency["mean"] = sum(run["latency_us"]["mean"] * run["requests"] for run in runs) / max(
        requests, 1
    )
    combined = {
        "requests": requests,
        "duration_s": seconds,
        "rps": requests / seconds,
        "non_2xx": sum(run["non_2xx"] for run in runs),
        "socket_errors": {
            kind: sum(run["socket_errors"][kind] for run in runs)
            for kind in runs[0]["socket_errors"]
        },
        "socket_error_count": sum(run["socket_error_count"] for run in runs),
        "latency_us": latency,
        "rounds": [{"rps": run["rps"], "latency_us": run["latency_us"]} for run in runs],
    }
    if all(run["cpu"] for run in runs):
        combined["cpu"] = {
            key: sum(run["cpu"][key] * run["requests"] for run in runs) / max(requests, 1)
            for key in ("app_ms", "database_ms", "load_generator_ms", "other_ms")
        }
        wall = sum(run["cpu"]["wall_s"] for run in runs)
        for key in ("machine_busy_pct", "other_pct"):
            combined["cpu"][key] = (
                sum(run["cpu"][key] * run["cpu"]["wall_s"] for run in runs) / wall
            )
        combined["cpu"]["wall_s"] = wall
    return combined


def _nonce() -> int:
    return secrets.randbits(30)


# Books


def scalars(sql: str, params=()) -> tuple:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def scalar(sql: str, params=()):
    return scalars(sql, params)[0]


def books_check(*, answered_2xx: int, unanswered_bound: int) -> tuple[list[str], dict]:
    """Re-check the ledger after the load; return (failures, figures)."""
    from django.db import connections

    from accounting.selectors import ledger_discrepancies
    from accounting.services import account_balances_fold

    failures = []
    figures = {
        "payments": scalar("SELECT count(*) FROM webhooks_payment"),
        "payments_total": scalar("SELECT coalesce(sum(amount), 0) FROM webhooks_payment"),
        "payment_entries": scalar(
            "SELECT count(*) FROM accounting_journalentry WHERE kind = 'payment'"
        ),
        "debits_51": scalar(
            """
            SELECT coalesce(sum(l.amount), 0)
              FROM accounting_journalline l JOIN accounting_account a ON a.id = l.account_id
             WHERE a.code = '51' AND l.side = 'D'
            """
        ),
        "credits_76_unid": scalar(
            """
            SELECT coalesce(sum(l.amount), 0)
              FROM accounting_journalline l JOIN accounting_account a ON a.id = l.account_id
             WHERE a.code = '76.UNID' AND l.side = 'C'
            """
        ),
    }
    figures["unidentified_payments"], figures["unidentified_total"] = scalars(
        """
        SELECT count(*), coalesce(sum(amount), 0) FROM webhooks_payment p
         WHERE NOT EXISTS (SELECT 1 FROM organizations_organization o WHERE o.inn = p.payer_inn)
        """
    )
    for result in ("booked", "unidentified", "duplicate", "conflict", "rejected"):
        figures[f"deliveries_{result}"] = scalar(
            "SELECT count(*) FROM webhooks_delivery WHERE result = %s", [result]
        )
    figures["deliveries_200"] = scalar(
        "SELECT count(*) FROM webhooks_delivery WHERE http_status = 200"
    )
    figures["unanswered_at_wrk_stop"] = figures["deliveries_200"] - answered_2xx

    def expect(ok: bool, message: str) -> None:
        if not ok:
            failures.append(message)

    discrepancies = ledger_discrepancies()
    expect(not discrepancies, f"ledger_discrepancies(): {discrepancies}")
    expect(
        figures["payments"] == figures["payment_entries"],
        f"{figures['payments']} payments but {figures['payment_entries']} payment entries",
    )
    expect(
        figures["debits_51"] == figures["payments_total"],
        f"debits on 51 {figures['debits_51']} != sum of payments {figures['payments_total']}",
    )
    booked = figures["deliveries_booked"] + figures["deliveries_unidentified"]
    expect(
        booked == figures["payments"],
        f"{booked} booked or unidentified deliveries but {figures['payments']} payments",
    )
    expect(
        figures["deliveries_unidentified"] == figures["unidentified_payments"],
        f"{figures['deliveries_unidentified']} unidentified deliveries but "
        f"{figures['unidentified_payments']} payments from unknown INNs",
    )
    expect(
        figures["credits_76_unid"] == figures["unidentified_total"],
        f"credits on 76.UNID {figures['credits_76_unid']} != sum of payments from unknown INNs "
        f"{figures['unidentified_total']}",
    )
    expect(
        0 <= figures["unanswered_at_wrk_stop"] <= unanswered_bound,
        f"{figures['deliveries_200']} deliveries answered 200 for {answered_2xx} 2xx seen by "
        f"wrk (at most {unanswered_bound} can be in flight when wrk stops)",
    )
    expect(
        figures["deliveries_duplicate"] + figures["deliveries_conflict"] == 0,
        "repeated operation_ids: the load generator should send each one once",
    )
    expect(figures["deliveries_rejected"] == 0, f"{figures['deliveries_rejected']} rejected")

    started = time.monotonic()
    figures["folded_deltas"] = account_balances_fold()
    figures["fold_s"] = round(time.monotonic() - started, 3)
    figures["pending_deltas_after_fold"] = scalar("SELECT count(*) FROM accounting_balancedelta")
    discrepancies = ledger_discrepancies()
    expect(not discrepancies, f"ledger_discrepancies() after the fold: {discrepancies}")
    expect(figures["pending_deltas_after_fold"] == 0, "balance deltas left after the fold")
    balance_51 = scalar(
        """
        SELECT b.balance FROM accounting_accountbalance b
          JOIN accounting_account a ON a.id = b.account_id WHERE a.code = '51'
        """
    )
    expect(
        (balance_51 or 0) == figures["payments_total"],
        f"folded balance of 51 {balance_51} != sum of payments {figures['payments_total']}",
    )
    connections.close_all()
    return failures, {
        k: str(v) if not isinstance(v, int | float) else v for k, v in figures.items()
    }


# Report


def describe(name: str, stats: dict) -> str:
    latency = stats["latency_us"]
    line = (
        f"{name:<8} {stats['rps']:>9.1f} req/s   p50 {latency['p50'] / 1000:>7.2f} ms   "
        f"p99 {latency['p99'] / 1000:>7.2f} ms   {stats['requests']} requests, "
        f"{stats['non_2xx']} non-2xx, {stats['socket_error_count']} socket errors"
    )
    cpu = stats.get("cpu")
    if cpu:
        line += (
            f"\n{'':<8} CPU per request: app {cpu['app_ms']:.2f} ms, PostgreSQL "
            f"{cpu['database_ms']:.2f} ms, wrk {cpu['load_generator_ms']:.2f} ms, "
            f"kernel and other {cpu['other_ms']:.2f} ms\n{'':<8} machine busy "
            f"{cpu['machine_busy_pct']:.0f}% ({cpu['other_pct']:.0f}% outside the benchmark's "
            "processes)"
        )
    return line


def revision() -> str:
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    return (done.stdout + done.stderr).split("Copyright")[0].strip()


def main() -> int:
    args = parse_args()
    admin_url, bench_url = database_urls()
    broker_dir = RESULTS / "celery"
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        "DJANGO_SETTINGS_MODULE": args.settings,
        # Tasks published on commit go to a queue of the benchmark's own.
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_BROKER_DIR": str(broker_dir),
    }
    known_inns = inns(KNOWN_INN_PREFIX, args.organizations)
    unknown_inns = inns(UNKNOWN_INN_PREFIX, UNKNOWN_INNS)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    RESULTS.mkdir(exist_ok=True)
    shutil.rmtree(broker_dir, ignore_errors=True)
    log = RESULTS / "gunicorn.log"
    server = None
    try:
        if not Path(args.wrk).exists():
            raise BenchError(f"wrk not found at {args.wrk}")
        print(f"Database {BENCH_DATABASE}: recreating and migrating ...", flush=True)
        pg_version, postmaster_pid = database_recreate(admin_url)
        manage(env, "migrate", "--noinput", "-v", "0")
        django_setup(env)
        organizations_create(known_inns)
        fold_interval = args.fold_interval
        if fold_interval is None:
            from django.conf import settings

            fold_interval = getattr(settings, "BALANCE_FOLD_INTERVAL_SECONDS", 0)
        print(
            f"Created {len(known_inns)} organizations; {UNKNOWN_INNS} more INNs have none "
            f"({args.unknown_share:.0%} of webhooks).",
            flush=True,
        )

        busy = machine_busy_share()
        deadline = time.monotonic() + args.wait_idle
        while busy is not None and busy > IDLE_SHARE and time.monotonic() < deadline:
            busy = machine_busy_share(2.0)
        if busy is not None and busy > IDLE_SHARE:
            print(f"warning: the machine was {busy:.0%} busy before the load", flush=True)
        transactions_before = database_transactions(admin_url)
        round_seconds = max(1, round(args.duration / args.rounds))
        server = gunicorn_start(env, port, args.workers, log)
        server_wait(server, base + FLOOR_PATH, log)
        print(
            f"gunicorn: {args.workers} sync workers on {base} ({args.settings}); "
            f"wrk -t{args.threads} "
            f"-c{args.connections}, {args.warmup}s warm-up + {args.rounds * round_seconds}s "
            f"per endpoint{f' in {args.rounds} alternating rounds' if args.rounds > 1 else ''}; "
            f"{'ANALYZE after the webhook warm-up; ' if args.analyze else ''}"
            + (
                f"fold every {fold_interval:g}s" if fold_interval > 0 else "no fold during the load"
            ),
            flush=True,
        )

        def webhook_args(nonce: int) -> list[str]:
            return [
                str(nonce),
                ",".join(known_inns),
                ",".join(unknown_inns),
                str(args.unknown_share),
            ]

        targets = (
            Target("webhook", base + WEBHOOK_PATH, "webhook.lua", webhook_args),
            Target("floor", base + FLOOR_PATH, "floor.lua", lambda nonce: []),
        )
        pids = (server.pid, postmaster_pid)
        runs = {target.name: [] for target in targets}
        with PeriodicFold(fold_interval) as fold:
            webhook_warmup = warm_up(args, targets[0])
            if args.analyze:
                database_analyze(bench_url)
            warm_up(args, targets[1])
            for _ in range(args.rounds):
                for target in targets:
                    runs[target.name].append(measure(args, target, round_seconds, pids))
        webhook, floor = combine(runs["webhook"]), combine(runs["floor"])
        print(describe("webhook", webhook), flush=True)
        print(describe("floor", floor), flush=True)
        gunicorn_stop(server)
        transactions = database_transactions(admin_url) - transactions_before
    except (BenchError, subprocess.SubprocessError, OSError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        print("benchmark failed", file=sys.stderr)
        return 2
    finally:
        if server is not None:
            gunicorn_stop(server)

    queued = len(list((broker_dir / "queue").glob("*"))) if broker_dir.exists() else 0
    ratio = webhook["rps"] / floor["rps"] if floor["rps"] else 0.0
    print(f"ratio    webhook / floor = {ratio:.3f}")

    answered_2xx = sum(run["requests"] - run["non_2xx"] for run in (webhook_warmup, webhook))
    invocations = args.rounds + (1 if args.warmup else 0)
    failures, books = books_check(
        answered_2xx=answered_2xx,
        unanswered_bound=invocations * args.connections
        + webhook_warmup["socket_error_count"]
        + webhook["socket_error_count"],
    )
    books["transactions_per_webhook"] = round(transactions / max(books["deliveries_200"], 1), 3)
    books["folds_during_load"] = fold.folds
    books["folded_during_load"] = fold.folded
    if fold.error is not None:
        failures.append(f"fold during the load failed: {fold.error!r}")
    if webhook["non_2xx"] or webhook_warmup["non_2xx"]:
        failures.append(f"{webhook['non_2xx'] + webhook_warmup['non_2xx']} non-2xx webhooks")
    print(
        f"books    {books['deliveries_200']} deliveries answered 200 ({answered_2xx} counted by "
        f"wrk, {books['unanswered_at_wrk_stop']} in flight when it stopped); "
        f"{books['payments']} payments ({books['deliveries_unidentified']} "
        f"unidentified), total {books['payments_total']}; {books['folded_deltas']} deltas "
        f"folded in {books['fold_s']}s; {books['transactions_per_webhook']} PostgreSQL "
        f"transactions per webhook; {queued} task messages queued"
    )
    if failures:
        print("books: FAILED")
        for failure in failures:
            print(f"  - {failure}")
    else:
        print("books: OK")

    if args.json:
        figures = {
            "revision": revision(),
            "machine": {
                "nproc": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "postgresql": pg_version,
                "wrk": wrk_version(args.wrk),
            },
            "config": {
                key: getattr(args, key)
                for key in (
                    "duration",
                    "rounds",
                    "warmup",
                    "connections",
                    "threads",
                    "workers",
                    "organizations",
                    "unknown_share",
                    "settings",
                    "analyze",
                )
            }
            | {"fold_interval": fold_interval},
            "webhook": webhook,
            "webhook_warmup": webhook_warmup,
            "floor": floor,
            "ratio": round(ratio, 4),
            "books": {"ok": not failures, "failures": failures, **books},
            "task_messages_queued": queued,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
