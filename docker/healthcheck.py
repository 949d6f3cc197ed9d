#!/usr/bin/env python3
"""Container health checks for the service's processes; exit status 0 means healthy.

    healthcheck.py http URL [URL ...]  # each URL answers 2xx (web /healthz, flower /healthcheck)
    healthcheck.py worker              # this container's Celery worker answers a ping
    healthcheck.py beat                # celery beat has written its schedule file lately

Only the standard library is imported here, so a check costs little and works before the
application can be imported; `worker` runs the Celery command line of the image.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HTTP_TIMEOUT_SECONDS = float(os.environ.get("HEALTHCHECK_HTTP_TIMEOUT", "4"))
WORKER_PING_TIMEOUT_SECONDS = float(os.environ.get("HEALTHCHECK_WORKER_PING_TIMEOUT", "10"))
# Beat rewrites its schedule at least every few minutes (celery's sync_every is 3 minutes,
# its longest sleep 5), so a schedule older than this means beat has stopped ticking.
BEAT_MAX_AGE_SECONDS = float(os.environ.get("HEALTHCHECK_BEAT_MAX_AGE", "900"))


def check_http(urls: list[str], timeout: float = HTTP_TIMEOUT_SECONDS) -> str | None:
    """Return None when every URL answers 2xx, otherwise what went wrong."""
    if not urls:
        return "no URL given"
    for url in urls:
        if not url.startswith(("http://", "https://")):
            return f"{url}: not an http(s) URL"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    return f"{url}: HTTP {response.status}"
        except urllib.error.HTTPError as error:
            return f"{url}: HTTP {error.code}"
        except (OSError, ValueError) as error:
            return f"{url}: {error}"
    return None


def worker_ping_command(
    hostname: str | None = None, timeout: float = WORKER_PING_TIMEOUT_SECONDS
) -> list[str]:
    """The Celery command that pings only this container's worker (default node name)."""
    node = f"celery@{hostname or socket.gethostname()}"
    return [
        sys.executable, "-m", "celery", "-A", "settings", "inspect", "ping",
        "--destination", node, "--timeout", str(timeout),
    ]  # fmt: skip


def check_worker() -> str | None:
    command = worker_ping_command()
    try:
        result = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=WORKER_PING_TIMEOUT_SECONDS + 20,
        )
    except subprocess.TimeoutExpired:
        return "celery inspect ping timed out"
    if result.returncode:
        return (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
    return None


def check_beat(
    var_dir: Path | None = None, max_age: float = BEAT_MAX_AGE_SECONDS, now: float | None = None
) -> str | None:
    """Return None when a beat schedule file under var_dir was written within max_age seconds."""
    var_dir = var_dir or Path(os.environ.get("SERVICE_VAR_DIR", ROOT / "var"))
    # The dbm module that backs the schedule may add a suffix (.db, .dat, .dir, .bak).
    files = list(var_dir.glob("celerybeat-schedule*"))
    if not files:
        return f"no celerybeat-schedule under {var_dir}"
    age = (time.time() if now is None else now) - max(f.stat().st_mtime for f in files)
    if age > max_age:
        return f"beat schedule last written {age:.0f}s ago (limit {max_age:.0f}s)"
    return None


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("http", "worker", "beat"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, rest = argv[0], argv[1:]
    if mode == "http":
        problem = check_http(rest)
    elif mode == "worker":
        problem = check_worker()
    else:
        problem = check_beat()
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
