"""Load from wrk, and the figures of its runs."""

import json
import secrets
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench import BENCH, BenchError
from bench.cpu import cpu_per_request, cpu_snapshot


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
    # The wrk script's arguments, given a number that differs for every wrk invocation and
    # the seconds the invocation lasts.
    script_args: Callable[[int, int], list[str]]


def warm_up(args, target: Target) -> dict:
    if not args.warmup:
        return {"requests": 0, "non_2xx": 0, "socket_error_count": 0}
    return wrk_run(
        args, target.url, target.script, args.warmup, target.script_args(_nonce(), args.warmup)
    )


def measure(args, target: Target, seconds: int, pids: tuple[int, int | None]) -> dict:
    """The figures of one wrk run, with the CPU time spent meanwhile."""
    script_args = target.script_args(_nonce(), seconds)
    before, started = cpu_snapshot(*pids), time.monotonic()
    stats = wrk_run(args, target.url, target.script, seconds, script_args)
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


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    return (done.stdout + done.stderr).split("Copyright")[0].strip()
