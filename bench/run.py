"""Throughput and latency of the service against the framework floor, then a check of the
books, for each scenario of bench/scenarios.py.

    .venv/bin/python bench/run.py [--scenario intake hot backlog balance balance-size]
                                  [--duration 20] [--rounds 5] [--no-analyze] [--unsigned]
                                  [--json PATH]

For each scenario:
1. Recreates the database `bank_webhook_bench` on the server of DATABASE_URL (default
   postgres://postgres@127.0.0.1:5432), migrates it, creates the organizations, and builds
   what the scenario needs (bulk-loaded payments, a backlog of pending deltas, an API key).
2. Serves the service with gunicorn (sync workers, settings `bench.settings`, webhooks
   signed) on 127.0.0.1.
3. Warms up target A, runs ANALYZE (as autovacuum does once tables have grown; not with
   --no-analyze), warms up target B, then measures A and B in alternating rounds with wrk.
   Balance deltas are folded meanwhile on the schedule of the service's periodic task,
   unless the scenario turns the fold off.
4. Stops gunicorn and checks the books.

Exits 1 when a check of the books fails, 2 when the benchmark could not run; a missed
target is reported, not an error.
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
    APP_ROLE,
    BENCH_DATABASE,
    PeriodicFold,
    app_role_url,
    database_analyze,
    database_recreate,
    database_transactions,
    database_urls,
    django_setup,
    inns,
    manage,
    organizations_create,
)
from bench.scenarios import (  # noqa: E402
    FLOOR_PATH,
    SCENARIOS,
    SECRET_ENV,
    Context,
    backlog_build,
    pending_deltas,
    rounds,
    targets,
    verdict,
)
from bench.server import free_port, gunicorn_start, gunicorn_stop, server_wait  # noqa: E402
from bench.wrk import describe, wrk_version  # noqa: E402

KNOWN_INN_PREFIX = "77"
UNKNOWN_INN_PREFIX = "99"
UNKNOWN_INNS = 10
# The machine counts as idle below this share of busy time (--wait-idle).
IDLE_SHARE = 0.2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario",
        dest="scenarios",
        nargs="+",
        choices=sorted(SCENARIOS),
        default=["intake"],
        help="what to measure (bench/scenarios.py); several run one after the other",
    )
    parser.add_argument(
        "--unsigned",
        dest="signed",
        action="store_false",
        help="send unsigned webhooks (the service's WEBHOOK_ALLOW_UNSIGNED switch)",
    )
    parser.add_argument(
        "--preload", type=int, help="payments bulk-loaded first (balance scenarios: 10,000)"
    )
    parser.add_argument(
        "--size-to",
        type=int,
        default=1_000_000,
        help="balance-size: payments in the books for the second measurement",
    )
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


def run_scenario(args, name: str, admin_url: str, bench_url: str) -> dict:
    """One scenario on a fresh database; returns its figures."""

    scenario = SCENARIOS[name]
    broker_dir = RESULTS / "celery"
    shutil.rmtree(broker_dir, ignore_errors=True)
    env = {
        **os.environ,
        # The benchmark migrates and loads as the owner, granting the application's role its
        # privileges; the server connects as that role.
        "DATABASE_URL": bench_url,
        "DATABASE_APP_ROLE": APP_ROLE,
        "DJANGO_SETTINGS_MODULE": args.settings,
        # Tasks published on commit go to a broker queue of the benchmark's own, which no
        # worker consumes: the publish is paid for, the dispatch is not.
        **broker_env(broker_dir),
        **(SECRET_ENV if args.signed else {}),
        # Every read comes from one API key: keep its throttle out of the figures.
        **(
            {"API_AUTH_REQUIRED": "true", "API_THROTTLE_RATE": "100000000/min"}
            if scenario.needs_api_key
            else {}
        ),
    }
    known_inns = inns(KNOWN_INN_PREFIX, args.organizations)
    unknown_inns = inns(UNKNOWN_INN_PREFIX, UNKNOWN_INNS)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    log = RESULTS / f"gunicorn-{name}.log"
    print(f"\n== {name}: database {BENCH_DATABASE} recreated and migrated", flush=True)
    pg_version, postmaster_pid = database_recreate(admin_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    os.environ.update(
        {k: env[k] for k in ("CELERY_BROKER_URL", "CELERY_FILESYSTEM_BROKER_DIR") if k in env}
    )
    django_setup(env)
    organizations_create(known_inns)
    from django.conf import settings
    from django.db import connections

    from organizations.models import Organization

    hot, backlog, fresh = known_inns[0], known_inns[1], known_inns[2]
    figures: dict = {"scenario": name, "postgresql": pg_version, "setup": {}}
    preload = args.preload if args.preload is not None else scenario.preload
    if preload:
        figures["setup"]["preload"] = bulk_load(env, preload, known_inns)
    if scenario.backlog:
        account = Organization.objects.get(inn=backlog).account_id
        seconds = backlog_build(account, scenario.backlog)
        figures["setup"]["backlog"] = {"deltas": pending_deltas(), "seconds": round(seconds, 1)}
        print(f"backlog  {pending_deltas()} pending deltas built in {seconds:.0f}s", flush=True)
    context = Context(
        base=base,
        threads=args.threads,
        known=known_inns,
        unknown=unknown_inns,
        unknown_share=args.unknown_share,
        signed=args.signed,
    )
    if scenario.needs_api_key:
        from organizations.services import api_key_issue

        _, context.api_key = api_key_issue(
            name="benchmark", organizations=Organization.objects.filter(inn=hot)
        )
    connections.close_all()
    fold_interval = args.fold_interval
    if fold_interval is None:
        fold_interval = settings.BALANCE_FOLD_INTERVAL_SECONDS if scenario.fold else 0

    busy = machine_busy_share()
    deadline = time.monotonic() + args.wait_idle
    while busy is not None and busy > IDLE_SHARE and time.monotonic() < deadline:
        busy = machine_busy_share(2.0)
    if busy is not None and busy > IDLE_SHARE:
        print(f"warning: the machine was {busy:.0%} busy before the load", flush=True)
    figures["machine_busy_before"] = busy
    transactions_before = database_transactions(admin_url)
    server_env = {**env, "DATABASE_URL": app_role_url(admin_url, bench_url)}
    server = gunicorn_start(server_env, port, args.workers, log)
    try:
        server_wait(server, base + FLOOR_PATH, log)
        print(
            f"gunicorn: {args.workers} sync workers ({args.settings}, webhooks "
            f"{'signed' if args.signed else 'unsigned'}); wrk -t{args.threads} "
            f"-c{args.connections}; {args.warmup}s warm-up, {args.rounds} alternating rounds "
            f"of {max(1, round(args.duration / args.rounds))}s per target; "
            f"{'ANALYZE after the first warm-up; ' if args.analyze else 'no ANALYZE; '}"
            + (f"fold every {fold_interval:g}s" if fold_interval > 0 else "no fold"),
            flush=True,
        )
        all_targets = targets(context, hot, backlog, fresh)
        a, b = all_targets[scenario.a], all_targets[scenario.b]
        pids = (server.pid, postmaster_pid)
        analyze = (lambda: database_analyze(bench_url)) if args.analyze else None
        with PeriodicFold(fold_interval) as fold:
            if name == "balance-size":
                small = rounds(args, scenario, b, b, pids, between=analyze)
                figures["setup"]["size_to"] = bulk_load(
                    env, args.size_to - preload, known_inns, hot_share=0.5
                )
                big = rounds(args, scenario, a, a, pids, between=analyze)
                measured = {"warmup": {**small["warmup"], **big["warmup"]}, b.name: small[b.name],
                            a.name: big[a.name]}  # fmt: skip
            else:
                measured = rounds(args, scenario, a, b, pids, between=analyze)
            figures["pending_deltas_at_end"] = pending_deltas()
            connections.close_all()
        for target in (a, b):
            print(describe(target.name, measured[target.name]), flush=True)
        gunicorn_stop(server)
    finally:
        gunicorn_stop(server)
        for path in context.written:
            path.unlink(missing_ok=True)
    figures["transactions"] = database_transactions(admin_url) - transactions_before
    figures["verdict"] = verdict(scenario, measured[a.name], measured[b.name])
    figures["targets"] = {target.name: measured[target.name] for target in (a, b)}
    figures["warmup"] = measured["warmup"]
    figures["fold"] = fold.summary(interval=fold_interval)
    every_run = [*measured["warmup"].items(), *figures["targets"].items()]
    webhook_runs = [run for key, run in every_run if key.startswith("webhook")]
    answered_2xx = sum(run["requests"] - run["non_2xx"] for run in webhook_runs)
    invocations = len(webhook_runs) * max(args.rounds, 1)
    failures, books = books_check(
        answered_2xx=answered_2xx,
        preloaded=preload + figures["setup"].get("size_to", {}).get("payments", 0),
        unanswered_bound=invocations * args.connections
        + sum(run["socket_error_count"] for run in webhook_runs),
    )
    if fold.error is not None:
        failures.append(f"fold during the load failed: {fold.error!r}")
    non_2xx = sum(run["non_2xx"] for run in [*figures["targets"].values(),
                                               *measured["warmup"].values()])  # fmt: skip
    if non_2xx:
        failures.append(f"{non_2xx} non-2xx responses")
    figures["books"] = {"ok": not failures, "failures": failures, **books}
    verdict_line = figures["verdict"]
    print(
        f"ratio    {a.name} / {b.name} = {verdict_line['ratio']:.3f} (target "
        f">= {verdict_line['target']})"
        + (
            f", p99 ratio {verdict_line['p99_ratio']:.2f} (target <= {verdict_line['p99_target']})"
            if "p99_ratio" in verdict_line
            else ""
        )
        + f": {'met' if verdict_line['met'] else 'MISSED'}"
    )
    if figures["fold"]["folds"]:
        print(
            f"fold     {figures['fold']['folded']} deltas in {figures['fold']['folds']} folds, "
            f"{figures['fold']['rate_per_s']:.0f} deltas/s while folding; "
            f"{figures['pending_deltas_at_end']} pending at the end"
        )
    print(f"books: {'OK' if not failures else 'FAILED'}")
    for failure in failures:
        print(f"  - {failure}")
    return figures


BENCH_BROKER = "redis://127.0.0.1:6379/8"


def broker_env(broker_dir: Path) -> dict:
    """Redis database 8 on 127.0.0.1 when a Redis answers there (as in production), emptied
    first; otherwise kombu's filesystem transport under bench/results."""
    try:
        import redis

        client = redis.Redis.from_url(BENCH_BROKER, socket_connect_timeout=1)
        client.flushdb()
        return {"CELERY_BROKER_URL": BENCH_BROKER}
    except Exception:  # no Redis here: the filesystem broker
        return {
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_FILESYSTEM_BROKER_DIR": str(broker_dir),
        }


def bulk_load(env: dict, payments: int, known_inns: list[str], hot_share: float = 0.5) -> dict:
    """Bulk-load payments (manage.py ledger_bulk_load) into the bench database."""
    started = time.monotonic()
    manage(
        env,
        "ledger_bulk_load",
        "--payments",
        str(payments),
        "--organizations",
        str(len(known_inns)),
        "--hot-share",
        str(hot_share),
        timeout=7200,
    )
    seconds = time.monotonic() - started
    print(f"preload  {payments} payments in {seconds:.0f}s ({payments / seconds:.0f}/s)")
    return {"payments": payments, "seconds": round(seconds, 1)}


def main() -> int:
    args = parse_args()
    admin_url, bench_url = database_urls()
    RESULTS.mkdir(exist_ok=True)
    if not Path(args.wrk).exists():
        print(f"benchmark failed: wrk not found at {args.wrk}", file=sys.stderr)
        return 2
    results = []
    try:
        for name in args.scenarios:
            results.append(run_scenario(args, name, admin_url, bench_url))
    except (BenchError, subprocess.SubprocessError, OSError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        print("benchmark failed", file=sys.stderr)
        return 2
    if args.json:
        figures = {
            "revision": revision(),
            "machine": {
                "nproc": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
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
                    "signed",
                )
            },  # fmt: skip
            "scenarios": results,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return 0 if all(result["books"]["ok"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
