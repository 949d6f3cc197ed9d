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
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
# Run as a script, the interpreter puts bench/ first on the path, where bench/settings.py
# would shadow the `settings` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

from bench import RESULTS, BenchError  # noqa: E402
from bench.books import books_check  # noqa: E402
from bench.cpu import machine_busy_share  # noqa: E402
from bench.database import (  # noqa: E402
    BENCH_DATABASE,
    PeriodicFold,
    database_analyze,
    database_recreate,
    database_transactions,
    database_urls,
    django_setup,
    inns,
    manage,
    organizations_create,
)
from bench.server import free_port, gunicorn_start, gunicorn_stop, server_wait  # noqa: E402
from bench.wrk import Target, combine, describe, measure, warm_up, wrk_version  # noqa: E402

WEBHOOK_PATH = "/api/v1/webhook/bank/"
FLOOR_PATH = "/bench/floor/"
KNOWN_INN_PREFIX = "77"
UNKNOWN_INN_PREFIX = "99"
UNKNOWN_INNS = 10
# The machine counts as idle below this share of busy time (--wait-idle).
IDLE_SHARE = 0.2


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
