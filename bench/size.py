"""The cost of each operation against the size of the books: two ledgers bulk-loaded with the
same shape (organizations, hot share, days), one small and one big, served side by side and
measured in alternating rounds, so that their ratio says something on a drifting machine.

    .venv/bin/python bench/size.py [--small 10000] [--big 5000000] [--json PATH]

1. Recreates `bank_webhook_size_small` and `bank_webhook_size_big` on the server of
   DATABASE_URL (default postgres://postgres@127.0.0.1:5432), migrates both and fills them
   with `manage.py ledger_bulk_load` (half of the payments to one organization), then
   ANALYZE; records the loader's speed and the bytes per payment of every table.
2. Serves each with gunicorn (signed webhooks, API keys required) and measures, small and big
   alternating: signed webhooks spread and to the big organization (wrk), GET balance of the
   big organization (wrk), its statement's first and last page, the admin journal list
   (unfiltered, filtered by the big organization's account, searched for an operation id)
   the deliveries list (unfiltered, searched for an operation id), the admin's home page
   and the organizations list: sequential requests, p50.
3. Times the daily reconciliation report (`manage.py reconcile`) for the last loaded day and
   for a day without payments, with the peak memory of its process.
4. Runs the spread webhook load on the big ledger for --fold-seconds with the balance fold on
   its schedule, and samples the pending deltas.
5. Reconciles today's intake on both ledgers: the report must be OK.

Exits 1 when a reconciliation is not OK, 2 when the benchmark could not run.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

from bench import RESULTS, BenchError  # noqa: E402
from bench.database import APP_ROLE, PeriodicFold, app_role_url, database_analyze  # noqa: E402
from bench.payloads import BENCH_SECRET  # noqa: E402
from bench.run import broker_env, revision  # noqa: E402
from bench.scenarios import Context, _webhook_args  # noqa: E402
from bench.server import free_port, gunicorn_start, gunicorn_stop, server_wait  # noqa: E402
from bench.wrk import Target, combine, describe, measure, warm_up  # noqa: E402

SIZES = ("small", "big")
HOT_INN_SQL = "SELECT inn FROM organizations_organization ORDER BY id LIMIT 1"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=10_000, help="payments in the small ledger")
    parser.add_argument("--big", type=int, default=5_000_000, help="payments in the big ledger")
    parser.add_argument("--organizations", type=int, default=1000)
    parser.add_argument("--hot-share", type=float, default=0.5)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk load per target")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--requests",
        type=int,
        default=40,
        help="sequential requests per page measured (statement, admin)",
    )
    parser.add_argument("--fold-seconds", type=int, default=60)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep ledgers already loaded by an earlier run with these sizes",
    )
    parser.add_argument("--wrk", default="/usr/bin/wrk")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.signed = True
    if not 1 <= args.rounds <= args.duration:
        parser.error("need 1 <= --rounds <= --duration")
    return args


def urls(name: str) -> tuple[str, str]:
    parts = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/x")
    parts = parts._replace(scheme="postgresql")
    return urlunsplit(parts._replace(path="/postgres")), urlunsplit(parts._replace(path=f"/{name}"))


def sql(url: str, statement: str, params=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def manage(env: dict, *args: str, timeout: int = 300) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise BenchError(f"manage.py {args[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


class Ledger:
    """One bulk-loaded database and the server in front of it."""

    def __init__(self, args, size: str, payments: int):
        self.size, self.payments = size, payments
        self.database = f"bank_webhook_size_{size}"
        self.admin_url, self.url = urls(self.database)
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "DATABASE_APP_ROLE": APP_ROLE,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "WEBHOOK_SECRETS": BENCH_SECRET,
            "API_AUTH_REQUIRED": "true",
            # Each read here comes from one API key: keep its throttle out of the figures.
            "API_THROTTLE_RATE": "100000000/min",
            **broker_env(RESULTS / f"celery-{size}"),
        }
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.figures: dict = {"payments": payments}

    def loaded(self) -> bool:
        try:
            rows = sql(self.url, "SELECT count(*) FROM webhooks_payment")
        except Exception:
            return False
        return rows[0][0] >= self.payments

    def load(self, args) -> None:
        sql(self.admin_url, f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        sql(self.admin_url, f"CREATE DATABASE {self.database}")
        app_role_url(self.admin_url, self.url)  # the role migrate grants to, created if new
        manage(self.env, "migrate", "--noinput", "-v", "0")
        started = time.monotonic()
        out = manage(
            self.env,
            "ledger_bulk_load",
            "--payments",
            str(self.payments),
            "--organizations",
            str(args.organizations),
            "--hot-share",
            str(args.hot_share),
            "--days",
            str(args.days),
            timeout=4 * 3600,
        )
        seconds = time.monotonic() - started
        self.figures["load"] = {
            "seconds": round(seconds, 1),
            "payments_per_s": round(self.payments / seconds),
            "report": out.strip().splitlines()[-1],
        }
        print(f"{self.size}: {out.strip().splitlines()[-1]}", flush=True)

    def prepare(self) -> None:
        """ANALYZE, the table sizes, an API key, an admin session."""
        database_analyze(self.url)
        self.figures["bytes"] = table_bytes(self.url)
        self.hot_inn = sql(self.url, HOT_INN_SQL)[0][0]
        self.hot_account = f"62.{self.hot_inn}"
        code = (
            "from organizations.models import Organization;"
            "from organizations.services import api_key_issue;"
            "from django.contrib.auth.models import User;"
            "from django.contrib.sessions.backends.db import SessionStore;"
            "from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, BACKEND_SESSION_KEY;"
            f"_, key = api_key_issue(name='size bench', organizations=Organization.objects.filter(inn='{self.hot_inn}'));"  # noqa: E501
            "user = User.objects.filter(username='sizebench').first() or User.objects.create_superuser('sizebench', '', 'x');"  # noqa: E501
            "s = SessionStore(); s[SESSION_KEY] = str(user.pk);"
            "s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend';"
            "s[HASH_SESSION_KEY] = user.get_session_auth_hash(); s.create();"
            "print(key); print(s.session_key)"
        )
        key, session = manage(self.env, "shell", "-c", code).split()[-2:]
        self.api_key, self.session = key, session
        middle = "SELECT operation_id::text FROM webhooks_payment ORDER BY id OFFSET %s LIMIT 1"
        self.operation_id = sql(self.url, middle, [self.payments // 2])[0][0]
        self.known = [
            row[0]
            for row in sql(self.url, "SELECT inn FROM organizations_organization ORDER BY id")
        ]

    def start(self, args) -> None:
        log = RESULTS / f"gunicorn-size-{self.size}.log"
        env = {**self.env, "DATABASE_URL": app_role_url(self.admin_url, self.url)}
        self.server = gunicorn_start(env, self.port, args.workers, log)
        server_wait(self.server, f"{self.base}/bench/floor/", log)

    def stop(self) -> None:
        if self.server is not None:
            gunicorn_stop(self.server)
        self.fold_stop()

    def fold_start(self, interval: float, seconds: float) -> None:
        """Fold this ledger's deltas every `interval` seconds, as beat's task would, in a
        process of its own, for at most `seconds`."""
        code = (
            "import time; from accounting.services import account_balances_fold\n"
            f"end = time.monotonic() + {seconds}\n"
            "while time.monotonic() < end:\n"
            "    while account_balances_fold(): pass\n"
            f"    time.sleep({interval})\n"
        )
        self.folder = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code], cwd=ROOT, env=self.env
        )

    def fold_stop(self) -> None:
        folder = getattr(self, "folder", None)
        if folder is not None and folder.poll() is None:
            folder.terminate()
            folder.wait(timeout=30)


def table_bytes(url: str) -> dict:
    rows = sql(
        url,
        "SELECT c.relname, pg_total_relation_size(c.oid), pg_indexes_size(c.oid)"
        "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 2 DESC",
    )
    return {name: {"total": total, "indexes": indexes} for name, total, indexes in rows}


def get_ms(url: str, headers: dict) -> tuple[float, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        body = response.read()
        if response.status != 200:
            raise BenchError(f"{url}: {response.status}")
    return (time.perf_counter() - started) * 1000, body


def pages_p50(args, ledgers: dict, pages: dict) -> dict:
    """p50 of sequential GETs of each page, alternating small and big, after one warm-up."""
    results: dict = {}
    for page, (path_of, headers_of) in pages.items():
        times = {size: [] for size in SIZES}
        for ledger in ledgers.values():
            get_ms(ledger.base + path_of(ledger), headers_of(ledger))
        for _ in range(args.requests):
            for size, ledger in ledgers.items():
                times[size].append(get_ms(ledger.base + path_of(ledger), headers_of(ledger))[0])
        results[page] = {size: round(statistics.median(t), 2) for size, t in times.items()}
        results[page]["ratio"] = round(results[page]["big"] / results[page]["small"], 2)
        print(
            f"{page:28} p50 small {results[page]['small']:8.2f} ms, big "
            f"{results[page]['big']:8.2f} ms: {results[page]['ratio']:.2f}x",
            flush=True,
        )
    return results


def _statement(ledger, page: int = 1) -> str:
    return f"/api/v1/organizations/{ledger.hot_inn}/statement/?page_size=100&page={page}"


def _with_key(ledger) -> dict:
    return {"Authorization": f"Bearer {ledger.api_key}"}


def _with_session(ledger) -> dict:
    return {"Cookie": f"sessionid={ledger.session}"}


JOURNAL = "/admin/accounting/journalentry/"
# What is read: (the path for a ledger, the headers for a ledger).
PAGES = {
    "statement first page": (_statement, _with_key),
    "statement last page": (lambda ledger: _statement(ledger, ledger.pages), _with_key),
    "admin journal": (lambda ledger: JOURNAL, _with_session),
    "admin journal, big account": (
        lambda ledger: f"{JOURNAL}?account={ledger.hot_account}",
        _with_session,
    ),
    "admin journal, an operation id": (
        lambda ledger: f"{JOURNAL}?q={ledger.operation_id}",
        _with_session,
    ),
    "admin deliveries": (lambda ledger: "/admin/webhooks/delivery/", _with_session),
    "admin home (attention panel)": (lambda ledger: "/admin/", _with_session),
    "admin organizations": (lambda ledger: "/admin/organizations/organization/", _with_session),
    "admin deliveries, an operation id": (
        lambda ledger: f"/admin/webhooks/delivery/?q={ledger.operation_id}",
        _with_session,
    ),
}


def statement_pages(ledger) -> tuple[int, int]:
    _, body = get_ms(ledger.base + _statement(ledger), _with_key(ledger))
    count = json.loads(body)["count"]
    return count, max(1, math.ceil(count / 100))


def wrk_targets(args, ledger, unknown: list[str]) -> tuple[Context, dict]:
    context = Context(
        base=ledger.base,
        threads=args.threads,
        known=ledger.known,
        unknown=unknown,
        unknown_share=0.1,
        signed=True,
    )
    url = ledger.base + "/api/v1/webhook/bank/"
    return context, {
        "webhook": Target(
            f"webhook-{ledger.size}", url, "replay.lua", _webhook_args(context, ledger.known, 0.1)
        ),
        "webhook-hot": Target(
            f"webhook-hot-{ledger.size}",
            url,
            "replay.lua",
            _webhook_args(context, [ledger.hot_inn], 0),
        ),
        "balance": Target(
            f"balance-{ledger.size}",
            ledger.base,
            "balance.lua",
            lambda n, s, ledger=ledger: [ledger.api_key, ledger.hot_inn],
        ),
    }


# What the server did for a round: WAL (all of the server's: nothing else writes while a
# round runs; bytes from the insert position, full-page images from pg_stat_wal) and this
# database's shared-buffer hits and reads (a read: a page not in shared_buffers).
SERVER_COUNTERS = ("wal_bytes", "wal_fpi", "blks_read", "blks_hit")
SERVER_COUNTERS_SQL = """
SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0'), w.wal_fpi, d.blks_read, d.blks_hit
  FROM pg_stat_wal w, pg_stat_database d WHERE d.datname = current_database()
"""


def server_counters(ledger) -> dict:
    # Backends publish their counters within a second of going idle.
    time.sleep(1.5)
    row = sql(ledger.url, SERVER_COUNTERS_SQL)[0]
    return dict(zip(SERVER_COUNTERS, map(int, row), strict=True))


def wrk_compare(args, ledgers: dict, unknown: list[str]) -> dict:
    """Each wrk target on small and big in alternating rounds."""
    per = {size: wrk_targets(args, ledger, unknown) for size, ledger in ledgers.items()}
    results: dict = {}
    round_seconds = max(1, round(args.duration / args.rounds))
    for name in ("webhook", "webhook-hot", "balance"):
        runs = {size: [] for size in SIZES}
        for size in SIZES:
            warm_up(args, per[size][1][name])
        io = {size: dict.fromkeys(SERVER_COUNTERS, 0) for size in SIZES}
        for _ in range(args.rounds):
            for size in SIZES:
                pids = (ledgers[size].server.pid, None)
                before = server_counters(ledgers[size])
                runs[size].append(measure(args, per[size][1][name], round_seconds, pids))
                after = server_counters(ledgers[size])
                for key in SERVER_COUNTERS:
                    io[size][key] += after[key] - before[key]
        combined = {size: combine(r) for size, r in runs.items()}
        for size in SIZES:
            print(describe(f"{name} {size}", combined[size]), flush=True)
            per_request = {
                key: round(value / max(combined[size]["requests"], 1), 2)
                for key, value in io[size].items()
            }
            combined[size]["server_per_request"] = per_request
            print(f"  server per request: {per_request}", flush=True)
        ratio = combined["big"]["rps"] / combined["small"]["rps"]
        results[name] = {
            size: {
                "rps": round(combined[size]["rps"]),
                "p50_ms": round(combined[size]["latency_us"]["p50"] / 1000, 2),
                "p99_ms": round(combined[size]["latency_us"]["p99"] / 1000, 2),
                "non_2xx": combined[size]["non_2xx"],
                "server_per_request": combined[size]["server_per_request"],
            }
            for size in SIZES
        }
        results[name]["ratio"] = round(ratio, 3)
        print(f"{name:28} big / small = {ratio:.3f}", flush=True)
        for context, _ in per.values():
            for path in context.written:
                path.unlink(missing_ok=True)
            context.written.clear()
    return results


def reconcile(ledger, day: date) -> dict:
    """`manage.py reconcile` for one day: wall time, the process's peak memory, status."""
    env = {**ledger.env, "DATABASE_URL": app_role_url(ledger.admin_url, ledger.url)}
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "reconcile",
        "--from",
        day.isoformat(),
        "--to",
        (day + timedelta(days=1)).isoformat(),
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    from django.conf import settings

    payments = sql(
        ledger.url,
        "SELECT count(*) FROM webhooks_payment p JOIN accounting_journalentry e"
        " ON e.id = p.entry_id WHERE e.posted_at >= %(day)s::timestamp AT TIME ZONE %(tz)s"
        " AND e.posted_at < (%(day)s::date + 1)::timestamp AT TIME ZONE %(tz)s",
        {"day": day, "tz": settings.TIME_ZONE},
    )[0][0]
    return {
        "day": day.isoformat(),
        "payments": payments,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "ok": process.returncode == 0 and "OK" in out,
        "output": out.strip().splitlines()[-1] if out.strip() else "",
    }


def fold_under_intake(args, ledger, unknown: list[str]) -> dict:
    """The spread webhook load for --fold-seconds with the fold on its schedule."""
    from django.conf import settings

    interval = settings.BALANCE_FOLD_INTERVAL_SECONDS
    context, targets = wrk_targets(args, ledger, unknown)
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            samples.append(sql(ledger.url, "SELECT count(*) FROM accounting_balancedelta")[0][0])

    sampler = threading.Thread(target=sample, daemon=True)
    with PeriodicFold(interval) as fold:
        sampler.start()
        stats = measure(args, targets["webhook"], args.fold_seconds, (ledger.server.pid, None))
        stop.set()
        sampler.join(timeout=10)
    for path in context.written:
        path.unlink(missing_ok=True)
    # Two deltas a payment (bank clearing and the payer's account), at the load's rate.
    deltas_per_s = 2 * stats["rps"]
    end = samples[-1] if samples else 0
    result = {
        "interval_s": interval,
        "webhook_rps": round(stats["rps"]),
        "folds": fold.folds,
        "folded": fold.folded,
        "fold_busy_s": round(fold.busy_s, 2),
        "pending_samples": samples,
        "pending_max": max(samples, default=0),
        "pending_at_end": end,
        "pending_at_end_s_of_intake": round(end / deltas_per_s, 2) if deltas_per_s else None,
        "fold_error": repr(fold.error) if fold.error else None,
    }
    print(f"fold under intake: {result}", flush=True)
    return result


def main() -> int:
    args = parse_args()
    RESULTS.mkdir(exist_ok=True)
    from organizations.inn import inn_with_check_digit

    unknown = [inn_with_check_digit(f"56{n:07d}") for n in range(1, 11)]
    ledgers = {"small": Ledger(args, "small", args.small), "big": Ledger(args, "big", args.big)}
    figures: dict = {"revision": revision(), "config": {k: str(v) for k, v in vars(args).items()}}
    failures = []
    try:
        for ledger in ledgers.values():
            if not (args.reuse and ledger.loaded()):
                ledger.load(args)
            ledger.prepare()
        os.environ.update(DATABASE_URL=ledgers["big"].url, DJANGO_SETTINGS_MODULE="bench.settings")
        import django

        django.setup()
        from django.conf import settings

        for ledger in ledgers.values():
            ledger.start(args)
            ledger.fold_start(settings.BALANCE_FOLD_INTERVAL_SECONDS, 3600)
        figures["wrk"] = wrk_compare(args, ledgers, unknown)
        for ledger in ledgers.values():
            ledger.pages = statement_pages(ledger)[1]
        figures["pages"] = pages_p50(args, ledgers, PAGES)
        yesterday = date.today() - timedelta(days=1)
        empty_day = date.today() - timedelta(days=args.days + 30)
        figures["reconcile"] = {
            size: {
                "loaded day": reconcile(ledger, yesterday),
                "day without payments": reconcile(ledger, empty_day),
            }
            for size, ledger in ledgers.items()
        }
        for size, runs in figures["reconcile"].items():
            for kind, run in runs.items():
                print(f"reconcile {size} {kind}: {run}", flush=True)
        for ledger in ledgers.values():
            ledger.fold_stop()
        from accounting.services import account_balances_fold

        while account_balances_fold():
            pass
        figures["fold"] = fold_under_intake(args, ledgers["big"], unknown)
        for ledger in ledgers.values():
            ledger.stop()
        from django.db import connections

        connections.close_all()
        figures["reconcile_today"] = {
            size: reconcile(ledger, date.today()) for size, ledger in ledgers.items()
        }
        for size, run in figures["reconcile_today"].items():
            print(f"reconcile today {size}: {run}", flush=True)
            if not run["ok"]:
                failures.append(f"{size}: today's reconciliation is not OK: {run['output']}")
        for size, ledger in ledgers.items():
            # Per payment held at the end: the load plus every run's intake on the ledger.
            ledger.figures["bytes_after"] = table_bytes(ledger.url)
            held = sql(ledger.url, "SELECT count(*) FROM webhooks_payment")[0][0]
            total = sum(t["total"] for t in ledger.figures["bytes_after"].values())
            ledger.figures["payments_held"] = held
            ledger.figures["bytes_per_payment"] = round(total / held)
            print(f"{size}: {total / 2**20:.0f} MiB, {held} payments, {total / held:.0f} B each")
        figures["ledgers"] = {size: ledger.figures for size, ledger in ledgers.items()}
    except (BenchError, subprocess.SubprocessError, OSError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    finally:
        for ledger in ledgers.values():
            ledger.stop()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
